from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("comms", "0002_newsletters"),
    ]

    operations = [
        migrations.AddField(
            model_name="outboundemail",
            name="purpose",
            field=models.CharField(default="service_notifications", max_length=64),
            preserve_default=False,
        ),
    ]
