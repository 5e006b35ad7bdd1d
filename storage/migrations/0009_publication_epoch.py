# The publication epoch as one number (issue 18): `publication_epoch` holds a counter that every
# transaction writing or removing a release version or a correction notice raises by one, in
# that transaction, and on PostgreSQL notifies `gongkai_publication` with the new value. The
# snapshot rows change only in such transactions, so a database (a streaming replica included)
# whose counter reads E holds exactly the public data of epoch E, and the counter only grows:
# api/epoch.py and the read-replica rule of docs/scaling.md compare epochs.
#
# On PostgreSQL the raise is a deferred constraint trigger: it runs at COMMIT, so the row lock
# that orders the epochs is held for the commit only, not through a publish's whole flip; a
# transaction-local setting keeps it to one raise (and one notification) per transaction. The
# statement triggers of 0007 go: their notification carried no epoch.
import importlib

from tortoise import migrations
from tortoise.migrations import operations as ops

NOTIFY_0007 = importlib.import_module("storage.migrations.0007_publication_notify").NOTIFY

POSTGRES = """
CREATE TABLE publication_epoch (
    id SMALLINT PRIMARY KEY CHECK (id = 1),
    epoch BIGINT NOT NULL
);
INSERT INTO publication_epoch (id, epoch) VALUES (1, 1);
DROP TRIGGER IF EXISTS release_version_moved ON release_version;
DROP TRIGGER IF EXISTS correction_notice_moved ON correction_notice;
DROP FUNCTION IF EXISTS gongkai_publication_moved();
CREATE FUNCTION gongkai_publication_epoch() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    raised BIGINT;
BEGIN
    IF current_setting('gongkai.epoch_xact', true) IS DISTINCT FROM txid_current()::text THEN
        UPDATE publication_epoch SET epoch = epoch + 1 WHERE id = 1 RETURNING epoch INTO raised;
        PERFORM set_config('gongkai.epoch_xact', txid_current()::text, true);
        PERFORM pg_notify('gongkai_publication', raised::text);
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER release_version_epoch
    AFTER INSERT OR UPDATE OR DELETE ON release_version
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION gongkai_publication_epoch();
CREATE CONSTRAINT TRIGGER correction_notice_epoch
    AFTER INSERT OR UPDATE OR DELETE ON correction_notice
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION gongkai_publication_epoch();
"""

POSTGRES_UNDO = """
DROP TRIGGER IF EXISTS release_version_epoch ON release_version;
DROP TRIGGER IF EXISTS correction_notice_epoch ON correction_notice;
DROP FUNCTION IF EXISTS gongkai_publication_epoch();
DROP TABLE IF EXISTS publication_epoch;
"""

SQLITE = """
CREATE TABLE publication_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    epoch INTEGER NOT NULL
);
INSERT INTO publication_epoch (id, epoch) VALUES (1, 1);
""" + "".join(
    f"""
CREATE TRIGGER {table}_{event.lower()}_epoch AFTER {event} ON {table}
BEGIN
    UPDATE publication_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
"""
    for table in ("release_version", "correction_notice")
    for event in ("INSERT", "UPDATE", "DELETE")
)

SQLITE_UNDO = "".join(
    f"DROP TRIGGER IF EXISTS {table}_{event.lower()}_epoch;\n"
    for table in ("release_version", "correction_notice")
    for event in ("INSERT", "UPDATE", "DELETE")
) + "DROP TABLE IF EXISTS publication_epoch;\n"


async def forward(apps, schema_editor):
    postgres = schema_editor.client.capabilities.dialect == "postgres"
    await schema_editor.client.execute_script(POSTGRES if postgres else SQLITE)


async def backward(apps, schema_editor):
    postgres = schema_editor.client.capabilities.dialect == "postgres"
    await schema_editor.client.execute_script(POSTGRES_UNDO if postgres else SQLITE_UNDO)
    if postgres:
        await schema_editor.client.execute_script(NOTIFY_0007)


class Migration(migrations.Migration):
    dependencies = [('models', '0007_publication_notify')]

    initial = False

    operations = [
        ops.RunPython(forward, backward),
    ]
