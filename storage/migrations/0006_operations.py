# Issue 12: the token deny-list (RevokedToken) and the request id of each audit entry.
# At the merge its dependency becomes the latest migration of main (0005 of issue 19).
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0005_personal_data')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RevokedToken',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('jti', fields.CharField(null=True, unique=True, max_length=200)),
                ('subject', fields.CharField(null=True, db_index=True, max_length=200)),
                ('issued_before', fields.BigIntField(null=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('revoked_by', fields.CharField(max_length=200)),
                ('reason', fields.CharField(default='', max_length=500)),
            ],
            options={'table': 'revoked_token', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A deny-list entry for internal tokens (a lost device): either one token by its `jti`, or'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='AuditEntry',
            name='request_id',
            field=fields.CharField(null=True, description='X-Request-ID of the HTTP request that wrote it', max_length=64),
        ),
    ]
