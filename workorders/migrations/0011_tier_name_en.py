"""Urgency tiers get an English name (shown when the UI is English); the four seeded tiers are
filled here (by code; a name edited in the admin is kept). The names live in workorders/seeds.py."""

from django.db import migrations, models

from workorders.seeds import fill_tier_names_en


class Migration(migrations.Migration):
    dependencies = [("workorders", "0010_notification_delivery_outbox")]

    operations = [
        migrations.AddField(
            model_name="urgencytier",
            name="name_en",
            field=models.CharField(blank=True, default="", max_length=60, verbose_name="英文名称"),
        ),
        migrations.RunPython(fill_tier_names_en, migrations.RunPython.noop),
    ]
