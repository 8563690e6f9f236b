"""Every link issued so far went out in bulk mail (newsletter footers): from now on such
links never stop working for opting out, and never give consent."""

from django.db import migrations


def bulk_links_opt_out_only(apps, schema_editor):
    PreferenceToken = apps.get_model("consent", "PreferenceToken")
    PreferenceToken.objects.update(grants_until=None)


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0006_preference_token_capabilities"),
    ]

    operations = [
        migrations.RunPython(bulk_links_opt_out_only, migrations.RunPython.noop),
    ]
