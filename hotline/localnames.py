"""Reference data (categories, urgency tiers) carries a Chinese name and an English one; pages show
the one of the active language, falling back to Chinese where no English name was given."""

from django.utils.translation import get_language


def localized(name: str, name_en: str) -> str:
    if name_en and (get_language() or "").startswith("en"):
        return name_en
    return name


def localized_field(prefix: str = "") -> str:
    """The column to read in a values() query for the active language (`name` or `name_en`)."""
    return f"{prefix}name_en" if (get_language() or "").startswith("en") else f"{prefix}name"
