from django.db import migrations, models


class Migration(migrations.Migration):
    # The staff inbox reads its page from this index alone, in its order (newest first),
    # however deep the page: bench/support.py, 100,000 tickets.
    dependencies = [
        ("contact", "0004_inquiry_closed_at"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="inquiry",
            index=models.Index(
                fields=[
                    "queue",
                    "-created_at",
                    "id",
                    "status",
                    "kind",
                    "assigned_to",
                    "assigned_at",
                ],
                name="contact_inquiry_inbox",
            ),
        ),
    ]
