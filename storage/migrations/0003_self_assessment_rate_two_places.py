# SelfAssessment.execution_rate in two places, like every other rate (issue 11 item 12).
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_withdrawal')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='SelfAssessment',
            name='execution_rate',
            field=fields.DecimalField(description='percent', max_digits=7, decimal_places=2),
        ),
    ]
