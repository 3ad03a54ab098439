"""Urgency tiers get an English name (shown when the UI is English); the four seeded tiers are
filled here (by code; a name edited in the admin is kept)."""

from django.db import migrations, models

EN = {
    "T2H": "Urgent (2-hour response)",
    "T24H": "Utilities (24 hours)",
    "T7D": "Standard (7 working days)",
    "T15D": "Complex (15 working days)",
}


def fill(apps, schema_editor=None):
    UrgencyTier = apps.get_model("workorders", "UrgencyTier")
    for code, name_en in EN.items():
        UrgencyTier.objects.filter(code=code, name_en="").update(name_en=name_en)


class Migration(migrations.Migration):
    dependencies = [("workorders", "0010_notification_delivery_outbox")]

    operations = [
        migrations.AddField(
            model_name="urgencytier",
            name="name_en",
            field=models.CharField(blank=True, default="", max_length=60, verbose_name="英文名称"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
