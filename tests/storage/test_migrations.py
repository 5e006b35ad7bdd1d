"""The migrations match the models (decisions.md D20) and apply on the test backend."""

from pathlib import Path

from tortoise.cli.cli import tortoise_cli_context
from tortoise.migrations.autodetector import MigrationAutodetector

from storage import database, models
from tests import factories

#: Every migration module, in the order they apply.
MIGRATIONS = sorted(
    path.stem for path in (Path(__file__).parents[2] / "storage" / "migrations").glob("0*.py")
)


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


async def _applied_and_schema() -> tuple[list[str], list[tuple[str, str]]]:
    """The migrations recorded as applied, and every table's columns."""
    from tortoise import connections

    conn = connections.get("default")
    applied = [
        row["name"]
        for row in await conn.execute_query_dict("SELECT name FROM tortoise_migrations ORDER BY id")
    ]
    if conn.capabilities.dialect == "sqlite":
        tables = await conn.execute_query_dict(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        )
        columns = [
            (table["name"], column["name"])
            for table in tables
            for column in await conn.execute_query_dict(f"PRAGMA table_info('{table['name']}')")
        ]
    else:
        rows = await conn.execute_query_dict(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
        )
        columns = [(row["table_name"], row["column_name"]) for row in rows]
    return applied, columns


async def test_migrate_twice_is_a_no_op(db: str) -> None:
    jurisdiction = await factories.jurisdiction()
    before = await _applied_and_schema()
    assert before[0] == MIGRATIONS  # every migration in the package, in order

    await database.close()
    await database.migrate(db)
    await database.init(db, global_fallback=True)

    assert await _applied_and_schema() == before  # nothing applied again, no column changed
    assert await models.Jurisdiction.filter(id=jurisdiction.id).exists()  # and no data lost
