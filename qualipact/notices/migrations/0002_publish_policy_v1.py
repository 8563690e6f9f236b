"""Publish the privacy policy's first version (effective 2024-12-07) from policies/v1.txt."""

import datetime
import hashlib
from pathlib import Path

from django.db import migrations

POLICY_FILE = Path(__file__).resolve().parent.parent / "policies" / "v1.txt"


def publish_v1(apps, schema_editor):
    PolicyVersion = apps.get_model("notices", "PolicyVersion")
    text = POLICY_FILE.read_text(encoding="utf-8")
    PolicyVersion.objects.get_or_create(
        version=1,
        defaults={
            "effective_date": datetime.date(2024, 12, 7),
            "text": text,
            "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            "summary_of_changes": "First published version.",
        },
    )


def unpublish_v1(apps, schema_editor):
    apps.get_model("notices", "PolicyVersion").objects.filter(version=1).delete()


class Migration(migrations.Migration):
    dependencies = [("notices", "0001_initial")]
    operations = [migrations.RunPython(publish_v1, unpublish_v1)]
