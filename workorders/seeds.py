"""Reference data that the workorders app's data migrations seed, kept here so that the migrations, the demo and
the tests (a flushed database gets the same rows back) share one copy. The functions take the
migration's `apps` registry and use apps.get_model only."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.apps.registry import Apps
    from django.db.backends.base.schema import BaseDatabaseSchemaEditor

# --- the four tiers of the 2020 city opinion (migration 0002), editable in the admin afterwards
# code, name, response limit, unit, resolution limit, unit, sort
TIERS = [
    ("T2H", "紧急（2小时响应）", 2, "hours", 24, "hours", 1),
    ("T24H", "水电气热（24小时）", 24, "hours", 3, "workdays", 2),
    ("T7D", "一般（7个工作日）", 24, "hours", 7, "workdays", 3),
    ("T15D", "复杂（15个工作日）", 2, "workdays", 15, "workdays", 4),
]


def seed_tiers(apps: Apps, schema_editor: BaseDatabaseSchemaEditor | None = None) -> None:
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


# --- the tiers' English names (migration 0011), by code; a name edited in the admin is kept
TIER_NAMES_EN = {
    "T2H": "Urgent (2-hour response)",
    "T24H": "Utilities (24 hours)",
    "T7D": "Standard (7 working days)",
    "T15D": "Complex (15 working days)",
}


def fill_tier_names_en(apps: Apps, schema_editor: BaseDatabaseSchemaEditor | None = None) -> None:
    UrgencyTier = apps.get_model("workorders", "UrgencyTier")
    for code, name_en in TIER_NAMES_EN.items():
        UrgencyTier.objects.filter(code=code, name_en="").update(name_en=name_en)
