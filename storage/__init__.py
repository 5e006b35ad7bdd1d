"""Everything persisted: the Tortoise models, database set-up, migrations and object stores."""
