"""What text a client may send: the one home of the character rules.

- NUL bytes and lone surrogates are refused at the edge for every request (hotline.web.edge uses
  `bad_characters`); PostgreSQL cannot store either, and no real input contains them.
- Invisible characters (zero-width spaces and joiners, the BOM, soft hyphens…) do not count towards a
  minimum length: six zero-width spaces are not a five-character description (`visible_length`).
- Bidirectional control characters (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F) can make a name
  or an address read differently from what is stored; they are refused in names and addresses
  (`refuse_bidi`), the fields shown in lists, exports and dispatch.
- ISO 8601 time-zone offsets beyond ±15:59 are not time zones (PostgreSQL rejects them), and
  2026-02-30 is no date: `bad_utc_offset` and `impossible_datetime` find them, the edge refuses them.
"""

from __future__ import annotations

import re

from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from hotline.errors import DomainError

NUL_OR_SURROGATE_RE = re.compile("[\x00\ud800-\udfff]")
BIDI_RE = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")
# Characters that take no space on screen: zero-width space/non-joiner/joiner, word joiner and the
# invisible operators, BOM, soft hyphen, Mongolian vowel separator, Hangul fillers, bidi controls.
INVISIBLE_RE = re.compile(
    "[\u00ad\u034f\u115f\u1160\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufeff\uffa0\u061c]"
)
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# An ISO 8601 date-time ending in a numeric offset: 2026-11-01T08:00:00+16:00, …+1600, …-99.
_OFFSET_RE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*[+-](\d{2})(?::?(\d{2}))?$")


def bad_characters(value: str) -> bool:
    """A NUL byte or a lone surrogate (half of a UTF-16 pair, not a character)."""
    return bool(NUL_OR_SURROGATE_RE.search(value))


def bad_utc_offset(value: str) -> bool:
    match = _OFFSET_RE.search(value.strip())
    if not match:
        return False
    hours, minutes = int(match.group(1)), int(match.group(2) or 0)
    return hours > 15 or minutes > 59


_ISO_RE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)?")


def impossible_datetime(value: str) -> bool:
    """A value shaped exactly like an ISO 8601 date or date-time that is no real one (2026-02-30,
    25:00); Django's parsers raise ValueError on those instead of returning None."""
    value = value.strip()
    if len(value) > 40 or not _ISO_RE.fullmatch(value):
        return False
    try:
        parse_datetime(value) or parse_date(value)
    except ValueError:
        return True
    return False


def visible_length(value: str) -> int:
    """Length without invisible characters and surrounding white space."""
    return len(INVISIBLE_RE.sub("", value or "").strip())


def strip_controls(value: str) -> str:
    """Control characters (other than tab and line breaks) removed, surrounding white space too."""
    return CONTROL_RE.sub("", value or "").strip()


def has_bidi(value: str) -> bool:
    return bool(BIDI_RE.search(value or ""))


def bidi_message(label) -> str:
    return _("%(field)s不能包含文字方向控制字符（如 U+202E）。") % {"field": label}


def refuse_bidi(value: str, *, label) -> str:
    """For names and addresses: refuse text carrying bidirectional control characters."""
    if has_bidi(value):
        raise DomainError(bidi_message(label), code="bidi")
    return value


def clean_text(value: str, *, label, required: bool = True, limit: int = 2000, min_length: int = 0) -> str:
    """Free text of a transition (a note, a reason, a ruling): trimmed; required means something
    visible; at most `limit` characters; at least `min_length` visible ones."""
    value = (value or "").strip()
    visible = visible_length(value)
    if required and not visible:
        raise DomainError(_("请填写%(field)s。") % {"field": label}, code="required")
    if len(value) > limit:
        raise DomainError(_("%(field)s不能超过 %(n)s 字。") % {"field": label, "n": limit}, code="too_long")
    if visible and visible < min_length:
        raise DomainError(
            _("%(field)s太短，请至少写 %(n)s 个字。") % {"field": label, "n": min_length}, code="too_short"
        )
    return value
