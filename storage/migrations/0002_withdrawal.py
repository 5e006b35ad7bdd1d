from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Withdrawal',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('release', fields.ForeignKeyField('models.Release', source_field='release_id', db_constraint=True, to_field='id', related_name='withdrawals', on_delete=OnDelete.CASCADE)),
                ('whole', fields.BooleanField(default=False, description='the whole release goes')),
                ('record_keys', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('object_keys', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('started_by', fields.CharField(max_length=100)),
                ('finished_at', fields.DatetimeField(null=True, description='empty while the work is open', auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'withdrawal', 'app': 'models', 'pk_attr': 'id', 'table_description': "撤回: the durable intent of one release's withdrawal (D12)."},
            bases=['TimestampedModel'],
        ),
        ops.AddField(
            model_name='ReleaseVersion',
            name='objects',
            field=fields.IntField(default=0, description='objects of the version, its manifest included (publish summary)'),
        ),
    ]
