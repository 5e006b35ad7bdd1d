from storage import database, models


async def test_fresh_database_is_migrated_and_empty(db: str) -> None:
    await database.ping()
    assert await models.Subject.all().count() == 0
    assert database.dialect() in ("sqlite", "postgres")
