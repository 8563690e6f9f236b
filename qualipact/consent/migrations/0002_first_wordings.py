"""The words shown when asking consent for each consent-based purpose, under policy v1."""

import hashlib

from django.db import migrations

WORDINGS = {
    "marketing": (
        "Send me newsletters and news about Qualipact's products and services by email. "
        "I can unsubscribe at any time, with one click in every email."
    ),
    "personalised_offers": (
        "Recommend content and offers to me based on the preferences I state and the pages "
        "I visit on this site. I can turn this off at any time."
    ),
    "personalised_ads": (
        "Show me advertising chosen from my preferences and browsing on this site. "
        "I can turn this off at any time."
    ),
    "location_features": (
        "Use my location (my country from my connection, or my approximate position if I "
        "share it) to offer location-based features. I can turn this off at any time."
    ),
    "partner_sharing": (
        "Share my contact details with Qualipact's business partners so that they can offer "
        "me their services. I can withdraw this at any time."
    ),
}


def publish(apps, schema_editor):
    ConsentWording = apps.get_model("consent", "ConsentWording")
    for purpose, text in WORDINGS.items():
        digest = hashlib.sha256(f"{purpose}\n{text}".encode()).hexdigest()
        ConsentWording.objects.get_or_create(
            sha256=digest,
            defaults={
                "purpose": purpose,
                "text": text,
                "policy_version": 1,
                "requires_renewal": True,
            },
        )


def unpublish(apps, schema_editor):
    ConsentWording = apps.get_model("consent", "ConsentWording")
    ConsentWording.objects.filter(policy_version=1, purpose__in=list(WORDINGS)).delete()


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_initial")]
    operations = [migrations.RunPython(publish, unpublish)]
