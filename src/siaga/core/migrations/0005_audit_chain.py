"""The audit log's hash chain (siaga.core.auditchain): seals and the chain head, seals append-only in the
database like the audit rows (PostgreSQL refuses UPDATE and DELETE, SQLite UPDATE). (Until 0006 existed
this migration also sealed the rows written before it; 0006 does that now.)"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

PG_UP = """
CREATE TRIGGER core_auditseal_append_only
    BEFORE UPDATE OR DELETE ON core_auditseal
    FOR EACH ROW EXECUTE FUNCTION siaga_audit_append_only();
"""
PG_DOWN = "DROP TRIGGER IF EXISTS core_auditseal_append_only ON core_auditseal;"
SQLITE_UP = """
CREATE TRIGGER core_auditseal_no_update BEFORE UPDATE ON core_auditseal
BEGIN
    SELECT RAISE(ABORT, 'the audit chain is append-only: UPDATE is not allowed');
END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS core_auditseal_no_update;"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_UP, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)
    # the rows written before are sealed by 0006, once the chain head knows its last sealed id


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DOWN, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0004_evacuationroute_evacuationsite'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditChainHead',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(default='default', max_length=20, unique=True)),
                ('last_hash', models.CharField(blank=True, max_length=64)),
                ('seals', models.PositiveBigIntegerField(default=0)),
                ('updated_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                'verbose_name': 'ujung rantai audit',
                'verbose_name_plural': 'ujung rantai audit',
            },
        ),
        migrations.CreateModel(
            name='AuditSeal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('prev_hash', models.CharField(blank=True, max_length=64, verbose_name='hash sebelumnya')),
                ('hash', models.CharField(max_length=64, verbose_name='hash')),
                ('sealed_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='disegel')),
                ('audit', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='seal', to='core.auditlog', verbose_name='baris audit')),
            ],
            options={
                'verbose_name': 'segel audit',
                'verbose_name_plural': 'segel audit',
                'ordering': ['id'],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
