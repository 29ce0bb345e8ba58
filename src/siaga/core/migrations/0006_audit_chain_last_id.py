"""The chain head remembers the last sealed audit id, so that each commit seals by an index range instead of
looking through an hour of rows; then every audit row not sealed yet is sealed, in id order."""

from django.db import migrations, models
from django.db.models import Max


def forwards(apps, schema_editor):
    from siaga.core.auditchain import seal_pending

    log, seal, head = (apps.get_model("core", name) for name in ("AuditLog", "AuditSeal", "AuditChainHead"))
    last = seal.objects.aggregate(last=Max("audit_id"))["last"] or 0
    head.objects.filter(name="default").update(last_audit_id=last)
    seal_pending("all", models=(log, seal, head))


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0005_audit_chain'),
    ]

    operations = [
        migrations.AddField(
            model_name='auditchainhead',
            name='last_audit_id',
            field=models.BigIntegerField(default=0),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
