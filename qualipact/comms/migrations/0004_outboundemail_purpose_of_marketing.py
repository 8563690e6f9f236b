"""Emails queued before they named a purpose: marketing rows are for marketing; the
others keep `service_notifications`, the purpose service mail had until now."""

from django.db import migrations


def marketing_rows(apps, schema_editor):
    OutboundEmail = apps.get_model("comms", "OutboundEmail")
    OutboundEmail.objects.filter(kind="marketing").update(purpose="marketing")


class Migration(migrations.Migration):
    dependencies = [
        ("comms", "0003_outboundemail_purpose"),
    ]

    operations = [
        migrations.RunPython(marketing_rows, migrations.RunPython.noop),
    ]
