"""The group of staff who act as Data Protection Officer (the DPO queue, /staff/rights/)."""

from django.db import migrations

DPO_GROUP = "DPO"


def create_group(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.get_or_create(name=DPO_GROUP)


def remove_group(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name=DPO_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("rights", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(create_group, remove_group)]
