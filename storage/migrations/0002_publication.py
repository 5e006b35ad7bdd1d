from tortoise import migrations
from tortoise.migrations import operations as ops
from storage.enums import CorrectionKind
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CorrectionNotice',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('jurisdiction', fields.ForeignKeyField('models.Jurisdiction', source_field='jurisdiction_id', db_constraint=True, to_field='id', related_name='notices', on_delete=OnDelete.RESTRICT)),
                ('release', fields.ForeignKeyField('models.Release', source_field='release_id', null=True, db_constraint=True, to_field='id', related_name='notices', on_delete=OnDelete.SET_NULL)),
                ('fiscal_year', fields.IntField()),
                ('published_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('kind', fields.CharEnumField(description='CORRECTION: CORRECTION\nWITHDRAWAL: WITHDRAWAL', enum_type=CorrectionKind, max_length=16)),
                ('note', fields.TextField(unique=False)),
            ],
            options={'table': 'correction_notice', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A public notice that published records were corrected or withdrawn (D7, D12).'},
            bases=['TimestampedModel'],
        ),
        ops.AddField(
            model_name='ReleaseVersion',
            name='content_sha256',
            field=fields.CharField(default='', description='digest of the (path, sha256) list of its objects', max_length=64),
        ),
    ]
