# Issue 17: console accounts linked to users of the organisation's OpenID Connect provider.
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0010_console_users')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ConsoleIdentity',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('issuer', fields.CharField(max_length=300)),
                ('subject', fields.CharField(max_length=255)),
                ('user', fields.ForeignKeyField('models.ConsoleUser', source_field='user_id', db_constraint=True, to_field='id', related_name='identities', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'console_identity', 'app': 'models', 'unique_together': (('issuer', 'subject'),), 'pk_attr': 'id', 'table_description': "A provider's user (`issuer`, `subject`: the ID token's `iss` and `sub`) linked to a"},
            bases=['BaseModel'],
        ),
    ]
