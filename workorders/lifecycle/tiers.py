"""The default urgency tiers (2020 city opinion) for the demo and the tests: a test database flushed
by a transactional test gets exactly the rows of the data migration workorders/0002 back (a test
checks that both lists agree)."""

from workorders.models import UrgencyTier

# code, name, response limit, unit, resolution limit, unit, sort
DEFAULT_TIERS = [
    ("T2H", "紧急（2小时响应）", 2, "hours", 24, "hours", 1),
    ("T24H", "水电气热（24小时）", 24, "hours", 3, "workdays", 2),
    ("T7D", "一般（7个工作日）", 24, "hours", 7, "workdays", 3),
    ("T15D", "复杂（15个工作日）", 2, "workdays", 15, "workdays", 4),
]


def ensure_default_tiers() -> None:
    """Create any missing default tier; existing rows (maybe edited in the admin) are left alone."""
    for code, name, r, ru, s, su, sort in DEFAULT_TIERS:
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
