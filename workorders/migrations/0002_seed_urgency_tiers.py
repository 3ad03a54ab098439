"""The four tiers of the 2020 city opinion. Editable in the admin afterwards.

The rows are written out here, not imported, so the migration means the same whatever the app code
later becomes; the demo and the tests call `seed` again (workorders/lifecycle/tiers.py).
"""

from django.db import migrations

# code, name, response limit, unit, resolution limit, unit, sort
TIERS = [
    ("T2H", "紧急（2小时响应）", 2, "hours", 24, "hours", 1),
    ("T24H", "水电气热（24小时）", 24, "hours", 3, "workdays", 2),
    ("T7D", "一般（7个工作日）", 24, "hours", 7, "workdays", 3),
    ("T15D", "复杂（15个工作日）", 2, "workdays", 15, "workdays", 4),
]


def seed(apps, schema_editor):
    UrgencyTier = apps.get_model("workorders", "UrgencyTier")
    for code, name, r, ru, s, su, sort in TIERS:
        UrgencyTier.objects.get_or_create(
            code=code,
            defaults=dict(
                name=name,
                response_limit=r,
                response_unit=ru,
                resolution_limit=s,
                resolution_unit=su,
                warn_ratio="0.75",
                sort=sort,
            ),
        )


class Migration(migrations.Migration):
    dependencies = [("workorders", "0001_orders_events_tiers")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
