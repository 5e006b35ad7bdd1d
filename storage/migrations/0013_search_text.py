# Search by runs (issue 18, decisions.md D28): each published record keeps its searchable text as
# its runs (`disclosure.search_text`, storage/search_text.py), and on PostgreSQL a pg_trgm GIN
# index over it finds the runs of three characters or more, which the bigram table answered by
# intersecting long posting lists (seconds at a city's size). The rows published before this
# migration get their text from their public shape, as a publish would have written it.
#
# pg_trgm ships with PostgreSQL (contrib) and is a trusted extension since PostgreSQL 13: a
# database owner without superuser rights may create it.
from orjson import loads
from tortoise import fields, migrations
from tortoise.migrations import operations as ops

BATCH = 5000

POSTGRES = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS disclosure_search_text_trgm ON disclosure
    USING gin (search_text gin_trgm_ops);
"""


async def forward(apps, schema_editor):
    from storage.enums import RecordType
    from storage.search_text import SEARCHABLE, runs_text, searchable

    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"
    types = sorted(t.value for t in SEARCHABLE)
    marks = ", ".join("$%d" % (i + 2) if postgres else "?" for i in range(len(types)))
    select = (
        f"SELECT id, record_type, data FROM disclosure WHERE id > {'$1' if postgres else '?'}"
        f" AND record_type IN ({marks}) ORDER BY id LIMIT {BATCH}"
    )
    last = 0
    while True:
        rows = await client.execute_query_dict(select, [last, *types])
        if not rows:
            break
        last = rows[-1]["id"]
        texts = []
        for row in rows:
            data = row["data"] if isinstance(row["data"], dict) else loads(row["data"])
            text = runs_text(searchable(RecordType(row["record_type"]), data))
            texts.append((row["id"], text or None))
        if postgres:
            await client.execute_query(
                "UPDATE disclosure d SET search_text = u.text"
                " FROM unnest($1::bigint[], $2::text[]) AS u(id, text) WHERE d.id = u.id",
                [[t[0] for t in texts], [t[1] for t in texts]],
            )
        else:
            await client.execute_many(
                "UPDATE disclosure SET search_text = ? WHERE id = ?",
                [[text, ident] for ident, text in texts],
            )
    if postgres:
        await client.execute_script(POSTGRES)


async def backward(apps, schema_editor):
    if schema_editor.client.capabilities.dialect == "postgres":
        # The column goes with the operation below; the extension stays (others may use it).
        await schema_editor.client.execute_script("DROP INDEX IF EXISTS disclosure_search_text_trgm;")


class Migration(migrations.Migration):
    dependencies = [('models', '0012_history')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Disclosure',
            name='search_text',
            field=fields.TextField(null=True, description='searchable text as runs, publishers/search.py: a search finds each run of its query in it, on PostgreSQL through a pg_trgm index', unique=False),
        ),
        ops.RunPython(forward, backward),
    ]
