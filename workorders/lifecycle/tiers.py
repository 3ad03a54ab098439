"""The default urgency tiers (2020 city opinion) for the demo and the tests: a database flushed by a
transactional test gets exactly the data migration's rows back, from the migration's own seed."""

import importlib

from django.apps import apps

SEED_MIGRATION = "workorders.migrations.0002_seed_urgency_tiers"
ENGLISH_MIGRATION = "workorders.migrations.0011_tier_name_en"


def ensure_default_tiers() -> None:
    """Create any missing default tier; existing rows (maybe edited in the admin) are left alone."""
    importlib.import_module(SEED_MIGRATION).seed(apps, None)
    importlib.import_module(ENGLISH_MIGRATION).fill(apps, None)
