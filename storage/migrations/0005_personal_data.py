# DR-10 (issue 19): protected terms, officers' exceptions, field redactions per release, and the
# extracted text of files. Numbered 0005 by the lead (0004 is issue 13's), on merge its
# dependency follows 0004.
from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_self_assessment_rate_two_places')]

    initial = False

    operations = [
        ops.CreateModel(
            name='FieldRedaction',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('release', fields.ForeignKeyField('models.Release', source_field='release_id', db_constraint=True, to_field='id', related_name='field_redactions', on_delete=OnDelete.CASCADE)),
                ('record_key', fields.CharField(max_length=200)),
                ('field', fields.CharField(description='path in the record, e.g. rows[2].deviationReason', max_length=200)),
                ('basis', fields.CharField(description='redactionBasis: the legal basis', max_length=300)),
                ('created_by', fields.CharField(max_length=200)),
            ],
            options={'table': 'field_redaction', 'app': 'models', 'unique_together': (('release', 'record_key', 'field'),), 'pk_attr': 'id', 'table_description': '区分处理 (条例 Art. 37, DR-10): one field of one published record is replaced by a marked'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='FileText',
            fields=[
                ('sha256', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('pages', fields.JSONField(null=True, description='[[where, text], …], or null when the file is unreadable', encoder=JSON_DUMPS, decoder=loads)),
                ('error', fields.TextField(null=True, description='why the text could not be read', unique=False)),
            ],
            options={'table': 'file_text', 'app': 'models', 'pk_attr': 'sha256', 'table_description': 'The extracted text of a stored file, by its sha256 (DR-10): a file is read once, not at'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PersonalDataException',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('release', fields.ForeignKeyField('models.Release', source_field='release_id', db_constraint=True, to_field='id', related_name='personal_data_exceptions', on_delete=OnDelete.CASCADE)),
                ('finding', fields.CharField(description='the digest of the finding', max_length=16)),
                ('location', fields.CharField(description='record key or file#ID', max_length=200)),
                ('field', fields.CharField(description='the field path, or the page of a file', max_length=200)),
                ('kind', fields.CharField(max_length=24)),
                ('masked', fields.CharField(max_length=120)),
                ('reason', fields.TextField(unique=False)),
                ('created_by', fields.CharField(max_length=200)),
            ],
            options={'table': 'personal_data_exception', 'app': 'models', 'unique_together': (('release', 'finding'),), 'pk_attr': 'id', 'table_description': "An officer's decision that one finding of the personal-data guard is not personal data"},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='ProtectedTerm',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('release', fields.ForeignKeyField('models.Release', source_field='release_id', db_constraint=True, to_field='id', related_name='protected_terms', on_delete=OnDelete.CASCADE)),
                ('term', fields.CharField(max_length=100)),
                ('created_by', fields.CharField(max_length=200)),
            ],
            options={'table': 'protected_term', 'app': 'models', 'unique_together': (('release', 'term'),), 'pk_attr': 'id', 'table_description': 'A name or term a department wants kept out of one release (DR-10): the names of natural'},
            bases=['TimestampedModel'],
        ),
    ]
