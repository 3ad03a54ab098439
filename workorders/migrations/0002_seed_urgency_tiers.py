"""The four tiers of the 2020 city opinion. Editable in the admin afterwards.

The rows live in workorders/seeds.py, which the demo and the tests (a flushed database) call too."""

from django.db import migrations

from workorders.seeds import seed_tiers


class Migration(migrations.Migration):
    dependencies = [("workorders", "0001_orders_events_tiers")]
    operations = [migrations.RunPython(seed_tiers, migrations.RunPython.noop)]
