"""The hand-chosen place (手选地点): every street/township of the city, searchable by Chinese,
pinyin and pinyin initials, grouped by district; the communities/villages of one street.

Used whenever routing fails, is ambiguous or is wrong: the intake page embeds `street_choices()`
(about 350 rows, filtered in the browser as the agent types), the API filters server-side with the
same `matches()`. Pinyin comes from pypinyin (its dictionary ships in the package, nothing is
downloaded). The lists are built once per process and rebuilt after TTL_SECONDS or a save.
"""

from __future__ import annotations

import threading
import time
import unicodedata
from functools import lru_cache

from django.db.models.signals import post_delete, post_save
from pypinyin import Style, lazy_pinyin

from districts.communities import communities_of
from districts.models import Division

TTL_SECONDS = 600.0
MAX_QUERY = 50
_lock = threading.Lock()
_cache: tuple[float, list[dict]] | None = None


@lru_cache(maxsize=20000)
def spell(name: str) -> tuple[str, str]:
    """("xiluoyuanjiedao", "xlyjd") for 西罗园街道."""
    syllables = lazy_pinyin(name, errors="ignore")
    initials = lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")
    return "".join(syllables).lower(), "".join(initials).lower()


def _row(division: Division, district: Division | None) -> dict:
    py, ini = spell(division.name)
    return {
        "code": division.code,
        "name": division.name,
        "district_code": district.code if district else "",
        "district_name": district.name if district else "",
        "py": py,
        "ini": ini,
    }


def street_choices() -> list[dict]:
    """Every street/township, in district then code order (shared list: read, don't change)."""
    global _cache
    cache = _cache
    if cache is None or time.monotonic() - cache[0] >= TTL_SECONDS:
        with _lock:
            cache = _cache
            if cache is None or time.monotonic() - cache[0] >= TTL_SECONDS:
                districts = {d.pk: d for d in Division.objects.filter(level=Division.Level.DISTRICT)}
                rows = [
                    _row(s, districts.get(s.district_id))
                    for s in Division.objects.filter(level=Division.Level.STREET).order_by("code")
                ]
                cache = _cache = (time.monotonic(), rows)
    return cache[1]


def normalize_query(query: str) -> str:
    return "".join(unicodedata.normalize("NFKC", query or "").split()).lower()[:MAX_QUERY]


def matches(row: dict, query: str) -> bool:
    """Chinese substring of the name (or its district's), pinyin substring, or initials prefix."""
    if not query:
        return True
    return (
        query in row["name"]
        or query in row.get("district_name", "")
        or (query.isascii() and (query in row["py"] or row["ini"].startswith(query)))
    )


def streets_search(query: str, *, limit: int = 50) -> tuple[list[dict], bool]:
    """(matching streets, cut off?)."""
    q = normalize_query(query)
    found = [r for r in street_choices() if matches(r, q)]
    return found[:limit], len(found) > limit


def communities_search(street: Division, query: str = "", *, limit: int = 200) -> tuple[list[dict], bool]:
    q = normalize_query(query)
    rows = [_row(c, None) for c in communities_of(street.pk)]
    found = [r for r in rows if matches(r, q)]
    return found[:limit], len(found) > limit


def _clear(**_kwargs) -> None:
    global _cache
    _cache = None


post_save.connect(_clear, sender=Division, dispatch_uid="places-division-saved")
post_delete.connect(_clear, sender=Division, dispatch_uid="places-division-deleted")
