# Issue 17: the web console's local accounts and its count of failed sign-ins.
from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0009_publication_epoch')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ConsoleUser',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('username', fields.CharField(unique=True, max_length=100)),
                ('display_name', fields.CharField(default='', max_length=100)),
                ('password_hash', fields.CharField(max_length=200)),
                ('roles', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('department', fields.CharField(null=True, description='a 主管部门 code', max_length=32)),
                ('classified', fields.BooleanField(default=False, description='holds the classified clearance')),
                ('disabled', fields.BooleanField(default=False)),
                ('session_epoch', fields.IntField(default=1)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'console_user', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A local account of the web console (api/console/): a person who signs in with a password'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ConsoleSignInFailures',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name_hash', fields.CharField(unique=True, max_length=64)),
                ('failures', fields.IntField(default=0)),
                ('last_failure_at', fields.FloatField(description='seconds since the epoch')),
            ],
            options={'table': 'console_sign_in_failures', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Consecutive failed console sign-ins of one user name (its SHA-256: a password typed into'},
            bases=['Model'],
        ),
    ]
