# The publication epoch in memory (issue 14): on PostgreSQL every statement that writes or removes
# a release version or a correction notice notifies `gongkai_publication`, which the API server
# LISTENs on (api/epoch.py). SQLite has no notifications: the server reads the epoch per request.
from tortoise import migrations
from tortoise.migrations import operations as ops

NOTIFY = """
CREATE OR REPLACE FUNCTION gongkai_publication_moved() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('gongkai_publication', '');
    RETURN NULL;
END $$;
CREATE TRIGGER release_version_moved
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON release_version
    FOR EACH STATEMENT EXECUTE FUNCTION gongkai_publication_moved();
CREATE TRIGGER correction_notice_moved
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON correction_notice
    FOR EACH STATEMENT EXECUTE FUNCTION gongkai_publication_moved();
"""

UNDO = """
DROP TRIGGER IF EXISTS release_version_moved ON release_version;
DROP TRIGGER IF EXISTS correction_notice_moved ON correction_notice;
DROP FUNCTION IF EXISTS gongkai_publication_moved();
"""


async def forward(apps, schema_editor):
    if schema_editor.client.capabilities.dialect == "postgres":
        await schema_editor.client.execute_script(NOTIFY)


async def backward(apps, schema_editor):
    if schema_editor.client.capabilities.dialect == "postgres":
        await schema_editor.client.execute_script(UNDO)


class Migration(migrations.Migration):
    dependencies = [('models', '0006_operations')]

    initial = False

    operations = [
        ops.RunPython(forward, backward),
    ]
