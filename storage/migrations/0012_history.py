# History of published records (issue 16): `disclosure_version` keeps every published version's
# snapshot rows (for `versions`, `changes` and `asOf` in the public API), and a correction notice
# names the version it produced. A database published before this migration has only its
# current versions' rows: they are copied in as the history's first entries (public from the
# day their version was published); what earlier versions held was never kept and is not made
# up. Each version gets its kind (first, correction, withdrawal of other records), and notices
# are linked to the version published at the same moment.
from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from storage.enums import RecordType, ReleaseKind, VersionKind
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

async def _rows(client, sql: str, params: list) -> list[dict]:
    if client.capabilities.dialect == "postgres":
        pieces = sql.split("?")
        sql = "".join(f"{p}${i}" for i, p in enumerate(pieces[:-1], 1)) + pieces[-1]
    return list(await client.execute_query_dict(sql, params))


COLUMNS = (
    "release_id, release_version, record_type, record_key, fiscal_year, jurisdiction_code,"
    " department_code, name, data, release_kind, precedence, subject_key, subject_kind,"
    " budget_book, funding_purpose, transfer_type, grade, score_hundredths, budget_fen,"
    " executed_fen"
)


async def forward(apps, schema_editor):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    client = schema_editor.client
    # Each version's kind: a later version corrected, unless a withdrawal notice was issued
    # with it.
    await _rows(
        client,
        "UPDATE release_version SET kind = CASE WHEN number = 1 THEN 'FIRST'"
        " WHEN EXISTS (SELECT 1 FROM correction_notice n WHERE n.release_id ="
        " release_version.release_id AND n.published_at = release_version.published_at"
        " AND n.kind = 'WITHDRAWAL') THEN 'WITHDRAWAL_OF_OTHERS' ELSE 'CORRECTION' END",
        [],
    )
    await _rows(
        client,
        "UPDATE correction_notice SET version = (SELECT v.number FROM release_version v"
        " WHERE v.release_id = correction_notice.release_id"
        " AND v.published_at = correction_notice.published_at)"
        " WHERE release_id IS NOT NULL",
        [],
    )
    shanghai = ZoneInfo("Asia/Shanghai")
    versions = await _rows(
        client,
        "SELECT v.release_id, v.kind, v.published_at, d.record_key AS release_key"
        " FROM release_version v JOIN release r ON r.id = v.release_id"
        " AND r.current_version = v.number"
        " JOIN disclosure d ON d.release_id = v.release_id AND d.record_type = 'RELEASE'",
        [],
    )
    for version in versions:
        published = version["published_at"]
        if isinstance(published, str):  # SQLite hands back text
            published = datetime.fromisoformat(published)
        day = int(published.astimezone(shanghai).strftime("%Y%m%d"))
        await _rows(
            client,
            f"INSERT INTO disclosure_version ({COLUMNS}, release_key, change, published_at,"
            f" published_day) SELECT {COLUMNS}, ?, ?, ?, ? FROM disclosure WHERE release_id = ?",
            [
                version["release_key"],
                version["kind"],
                version["published_at"],
                day,
                version["release_id"],
            ],
        )


async def backward(apps, schema_editor):
    pass  # the table and the column go with the operations above


class Migration(migrations.Migration):
    dependencies = [('models', '0011_console_identities')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DisclosureVersion',
            fields=[
                ('release_version', fields.IntField()),
                ('record_type', fields.CharEnumField(description='JURISDICTION: JURISDICTION\nDEPARTMENT: DEPARTMENT\nSUBJECT: SUBJECT\nTARGET: TARGET\nEX_ANTE_ASSESSMENT: EX_ANTE_ASSESSMENT\nMONITORING: MONITORING\nSELF_ASSESSMENT: SELF_ASSESSMENT\nEVALUATION: EVALUATION\nANNUAL_STATEMENT: ANNUAL_STATEMENT\nFILE: FILE\nRELEASE: RELEASE', enum_type=RecordType, max_length=24)),
                ('record_key', fields.CharField(description='stable public identifier', max_length=120)),
                ('fiscal_year', fields.IntField()),
                ('jurisdiction_code', fields.CharField(max_length=12)),
                ('department_code', fields.CharField(null=True, max_length=32)),
                ('name', fields.CharField(default='', max_length=300)),
                ('data', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('release_kind', fields.CharEnumField(description='BUDGET: BUDGET\nFINAL_ACCOUNTS: FINAL_ACCOUNTS\nFINANCE_ANNUAL: FINANCE_ANNUAL', enum_type=ReleaseKind, max_length=24)),
                ('precedence', fields.IntField(default=1, description='a record in several releases is answered from the highest')),
                ('subject_key', fields.CharField(null=True, description="the record's subject", max_length=120)),
                ('subject_kind', fields.CharField(null=True, max_length=24)),
                ('budget_book', fields.CharField(null=True, max_length=32)),
                ('funding_purpose', fields.CharField(null=True, max_length=32)),
                ('transfer_type', fields.CharField(null=True, max_length=40)),
                ('grade', fields.CharField(null=True, max_length=16)),
                ('score_hundredths', fields.IntField(null=True)),
                ('budget_fen', fields.BigIntField(null=True, description='全年预算数 (or 年初预算数) in 分')),
                ('executed_fen', fields.BigIntField(null=True, description='全年执行数 in 分')),
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('release', fields.ForeignKeyField('models.Release', source_field='release_id', db_constraint=True, to_field='id', related_name='disclosure_versions', on_delete=OnDelete.CASCADE)),
                ('release_key', fields.CharField(description='the public key of its release', max_length=120)),
                ('change', fields.CharEnumField(description='FIRST: FIRST\nCORRECTION: CORRECTION\nWITHDRAWAL_OF_OTHERS: WITHDRAWAL_OF_OTHERS', enum_type=VersionKind, max_length=24)),
                ('published_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('published_day', fields.IntField(description='YYYYMMDD, Shanghai time')),
                ('superseded_day', fields.IntField(null=True, description='YYYYMMDD when the next version was published, empty while current')),
            ],
            options={'table': 'disclosure_version', 'app': 'models', 'unique_together': (('release', 'release_version', 'record_type', 'record_key'),), 'indexes': [Index(fields=['record_type', 'record_key']), Index(fields=['record_type', 'fiscal_year']), Index(fields=['subject_key']), Index(fields=['published_day', 'superseded_day'])], 'pk_attr': 'id', 'table_description': 'A record as one version of its release published it: the history behind `versions`,'},
            bases=['SnapshotColumns'],
        ),
        ops.AddField(
            model_name='CorrectionNotice',
            name='version',
            field=fields.IntField(null=True, description='the release version it produced, empty for a whole withdrawal'),
        ),
        ops.AddField(
            model_name='ReleaseVersion',
            name='kind',
            field=fields.CharEnumField(default=VersionKind.FIRST, description='what it did', enum_type=VersionKind, max_length=24),
        ),
        ops.RunPython(forward, backward),
        ops.AlterModelOptions(
            name='Disclosure',
            options={'table': 'disclosure', 'app': 'models', 'unique_together': (('release', 'record_type', 'record_key'),), 'indexes': [Index(fields=['record_type', 'fiscal_year']), Index(fields=['jurisdiction_code', 'department_code']), Index(fields=['record_type', 'record_key']), Index(fields=['subject_key'])], 'pk_attr': 'id', 'table_description': 'A published snapshot row: one record exactly as the current version of a release'},
        ),
    ]
