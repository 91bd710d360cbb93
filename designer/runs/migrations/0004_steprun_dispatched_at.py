from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("runs", "0003_run_pipeline_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="steprun",
            name="dispatched_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="steprun",
            name="unserved_noted",
            field=models.BooleanField(default=False),
        ),
    ]
