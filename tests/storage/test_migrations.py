"""The migrations match the models (decisions.md D20) and apply on the test backend."""

from tortoise.cli.cli import tortoise_cli_context
from tortoise.migrations.autodetector import MigrationAutodetector

from storage import database, models


async def test_makemigrations_finds_no_pending_change() -> None:
    config = database.tortoise_config("sqlite://:memory:")
    async with tortoise_cli_context(config) as ctx:
        assert ctx.apps is not None
        writers = await MigrationAutodetector(ctx.apps, config["apps"]).changes()
    pending = [op for writer in writers for op in writer.operations]
    assert pending == [], (
        "models changed without a migration: run `tortoise -c "
        "storage.database.TORTOISE_ORM makemigrations`"
    )


async def test_migrations_apply_and_are_recorded(db: str) -> None:
    # `db` is a copy of a database migrated by `storage.database.migrate` on this backend.
    from tortoise import connections

    applied = await connections.get("default").execute_query_dict(
        "SELECT name FROM tortoise_migrations"
    )
    assert {row["name"] for row in applied} >= {"0001_initial"}
    assert await models.Release.all().count() == 0


async def test_migrate_twice_is_a_no_op(db: str) -> None:
    await database.close()
    await database.migrate(db)
    await database.init(db, global_fallback=True)
    await database.ping()
