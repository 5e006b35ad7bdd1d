from tortoise import migrations
from tortoise.migrations import operations as ops
from storage.enums import RecordType, ReleaseKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_publication')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SearchGram',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('disclosure', fields.ForeignKeyField('models.Disclosure', source_field='disclosure_id', db_constraint=True, to_field='id', related_name='grams', on_delete=OnDelete.CASCADE)),
                ('gram', fields.CharField(max_length=2)),
            ],
            options={'table': 'search_gram', 'app': 'models', 'unique_together': (('disclosure', 'gram'),), 'indexes': [Index(fields=['gram', 'disclosure_id'])], 'pk_attr': 'id', 'table_description': 'The Chinese search index (D14): each character bigram (and single character) of a'},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='Disclosure',
            name='record_type',
            field=fields.CharEnumField(description='JURISDICTION: JURISDICTION\nDEPARTMENT: DEPARTMENT\nSUBJECT: SUBJECT\nTARGET: TARGET\nEX_ANTE_ASSESSMENT: EX_ANTE_ASSESSMENT\nMONITORING: MONITORING\nSELF_ASSESSMENT: SELF_ASSESSMENT\nEVALUATION: EVALUATION\nANNUAL_STATEMENT: ANNUAL_STATEMENT\nFILE: FILE\nRELEASE: RELEASE', enum_type=RecordType, max_length=24),
        ),
        ops.AddField(
            model_name='Disclosure',
            name='budget_book',
            field=fields.CharField(null=True, max_length=32),
        ),
        ops.AddField(
            model_name='Disclosure',
            name='budget_fen',
            field=fields.BigIntField(null=True, description='全年预算数 (or 年初预算数) in 分'),
        ),
        ops.AddField(
            model_name='Disclosure',
            name='executed_fen',
            field=fields.BigIntField(null=True, description='全年执行数 in 分'),
        ),
        ops.AddField(
            model_name='Disclosure',
            name='funding_purpose',
            field=fields.CharField(null=True, max_length=32),
        ),
        ops.AddField(
            model_name='Disclosure',
            name='grade',
            field=fields.CharField(null=True, max_length=16),
        ),
        ops.AddField(
            model_name='Disclosure',
            name='precedence',
            field=fields.IntField(default=1, description='a record in several releases is answered from the highest'),
        ),
        ops.AddField(
            model_name='Disclosure',
            name='release_kind',
            field=fields.CharEnumField(description='BUDGET: BUDGET\nFINAL_ACCOUNTS: FINAL_ACCOUNTS\nFINANCE_ANNUAL: FINANCE_ANNUAL', enum_type=ReleaseKind, max_length=24),
        ),
        ops.AddField(
            model_name='Disclosure',
            name='score_hundredths',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Disclosure',
            name='subject_key',
            field=fields.CharField(null=True, description="the record's subject", max_length=120),
        ),
        ops.AddField(
            model_name='Disclosure',
            name='subject_kind',
            field=fields.CharField(null=True, max_length=24),
        ),
        ops.AddField(
            model_name='Disclosure',
            name='transfer_type',
            field=fields.CharField(null=True, max_length=40),
        ),
        ops.AddIndex(
            model_name='Disclosure',
            index=Index(fields=['record_type', 'record_key']),
        ),
        ops.AddIndex(
            model_name='Disclosure',
            index=Index(fields=['subject_key']),
        ),
    ]
