from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_public_index')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ReleaseVersion',
            name='input_sha256',
            field=fields.CharField(default='', description='digest of the records and files it was made of', max_length=64),
        ),
    ]
