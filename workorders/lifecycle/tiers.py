"""The default urgency tiers (2020 city opinion) for the demo and the tests: a database flushed by a
transactional test gets exactly the data migration's rows back (workorders/seeds.py)."""

from django.apps import apps

from workorders.seeds import fill_tier_names_en, seed_tiers


def ensure_default_tiers() -> None:
    """Create any missing default tier; existing rows (maybe edited in the admin) are left alone."""
    seed_tiers(apps)
    fill_tier_names_en(apps)
