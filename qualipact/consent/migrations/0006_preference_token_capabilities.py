from django.db import migrations, models

import qualipact.privacy.fields


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0005_alter_consentevent_channel"),
    ]

    operations = [
        migrations.RenameField(
            model_name="preferencetoken", old_name="expires_at", new_name="grants_until"
        ),
        migrations.AlterField(
            model_name="preferencetoken",
            name="grants_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="preferencetoken",
            name="granted_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="preferencetoken",
            name="email",
            field=qualipact.privacy.fields.EncryptedTextField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="preferencetoken",
            name="email_index",
            field=qualipact.privacy.fields.BlindIndexField(
                blank=True, db_index=True, editable=False, null=True, source="email"
            ),
        ),
    ]
