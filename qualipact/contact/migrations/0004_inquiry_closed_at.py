from django.db import migrations, models
from django.db.models import F


def closed_when_last_changed(apps, schema_editor):
    # Messages closed before this field existed: their last change was the closing.
    Inquiry = apps.get_model("contact", "Inquiry")
    Inquiry.objects.filter(status="closed").update(closed_at=F("updated_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("contact", "0003_inquiry_queue_by_kind"),
    ]

    operations = [
        migrations.AddField(
            model_name="inquiry",
            name="closed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(closed_when_last_changed, migrations.RunPython.noop),
    ]
