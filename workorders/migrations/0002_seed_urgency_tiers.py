"""The four tiers of the 2020 city opinion. Editable in the admin afterwards."""

from django.db import migrations

from workorders.lifecycle.tiers import DEFAULT_TIERS as TIERS  # noqa: F401 - kept importable by name
from workorders.lifecycle.tiers import ensure_default_tiers


def seed(apps, schema_editor):
    ensure_default_tiers(apps.get_model("workorders", "UrgencyTier"))


class Migration(migrations.Migration):
    dependencies = [("workorders", "0001_orders_events_tiers")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
