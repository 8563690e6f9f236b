from django.db import migrations, models


class Migration(migrations.Migration):
    # Messages kept before this field are marked not sent signed in: nothing proves who
    # sent them, so they leave "Your messages" and stay reachable by their emailed links
    # and by email replies.
    dependencies = [
        ("contact", "0005_inquiry_inbox_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="inquiry",
            name="sent_signed_in",
            field=models.BooleanField(default=False),
        ),
    ]
