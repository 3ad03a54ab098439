"""The global search (top bar): one box that finds an order by any part of its number, the caller's
phone, the caller's name, the address, or words of the title, description and handling notes —
only among the orders the user may see (access.visible_orders).

Matching is substring matching (Chinese has no spaces to split words on). On PostgreSQL every
searched column has a pg_trgm GIN index (migration hotline/0008), which serves `LIKE '%…%'` for
queries of three or more characters. A two-character query has no trigram to look up: it searches
the orders dispatched in the last SHORT_QUERY_DAYS days (walking the dispatched_at index, newest
first) and says so. SQLite uses the same queries without the indexes.

Phone numbers are personal data: agents search them freely (they work with full numbers); any other
role may search a number of at least MIN_PHONE_DIGITS digits among the orders it may see, and every
call found that way is logged in PersonalDataAccess, as a reveal is.
"""

from __future__ import annotations

import re
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline import access, numbers
from hotline.models import PersonalDataAccess, User
from workorders.models import WorkOrder

MAX_QUERY = 100
MIN_QUERY = 2
SHORT_QUERY_DAYS = 90
MIN_PHONE_DIGITS = 7
LIMIT = 50
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
PHONE_JUNK_RE = re.compile(r"[\s\-()（）+]")


@dataclass
class SearchResult:
    query: str = ""
    orders: list = field(default_factory=list)
    cut_off: bool = False
    message: str = ""
    note: str = ""
    phone_searched: bool = False


def clean_query(raw: str) -> str:
    # Not NFKC-normalised: the stored text keeps its full-width punctuation (，。), and a query
    # must match it as typed. Digits are normalised separately.
    text = CONTROL_RE.sub("", raw or "")
    return " ".join(text.split())[:MAX_QUERY]


ORDER_TEXT = ("number", "address", "title", "action_taken", "result_note")
CALL_TEXT = ("call__description", "call__caller_name")
RECENT_DAYS = 1
# 保密工单: who the caller is (name, address, phone) is never matched for a viewer who may not see it
CALLER_FIELDS = frozenset({"address", "call__caller_name", "call__caller_phone"})


def _any(fields, term: str, hidden: Q | None = None) -> Q:
    q = Q()
    for name in fields:
        match = Q(**{f"{name}__contains": term})
        q |= match & ~hidden if hidden is not None and name in CALLER_FIELDS else match
    return q


def _newest(qs, limit: int) -> list[tuple]:
    return list(qs.order_by("-dispatched_at", "-id").values_list("dispatched_at", "id")[:limit])


@contextmanager
def _plan(how: str):
    """Tell PostgreSQL how to find the newest matches; its estimate for LIKE '%…%' is blind to how
    common a word is, and either wrong choice costs a walk over most of the table.
    "walk": go through the orders newest first and test each (a small scope, or the recent window:
    bounded either way) — GIN indexes are used only through bitmap scans, so bitmap scans off.
    "match": collect the matches through the trigram indexes, then sort them (digits, and older
    history once the window did not fill the page: the matches are few) — plain index scans off,
    so the dispatched_at index is not walked."""
    if connection.vendor != "postgresql":
        yield
        return
    setting = "enable_bitmapscan" if how == "walk" else "enable_indexscan"
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL {setting} = off")
        yield


def search_orders(*, user: User, raw_query: str, via: str = "page", ip_address: str | None = None, now=None):
    """Orders matching the query within what the user may see, newest first (at most LIMIT).
    Several words: every word must match (the longest one is looked up in the indexes)."""
    access.require(user, access.Cap.SEARCH)
    query = clean_query(raw_query)
    result = SearchResult(query=query)
    if not query:
        result.message = _("请输入要查找的工单编号、电话、姓名、地址或内容。")
        return result
    if len(query.replace(" ", "")) < MIN_QUERY:
        result.message = _("请至少输入 2 个字符。")
        return result

    # A street or department sees the orders it leads and those it assists: searched apart, so
    # that each starts from its own index (an OR of both would make PostgreSQL walk every match).
    small_scope = access.role_of(user) in access.SUB_UNIT_ROLES
    if small_scope:
        scopes = [access.led_orders(user), access.assisting_orders(user)]
    else:
        scopes = [access.visible_orders(user)]
    short = len(query.replace(" ", "")) < 3
    if short:
        since = (now or timezone.now()) - timedelta(days=SHORT_QUERY_DAYS)
        scopes = [scope.filter(dispatched_at__gte=since) for scope in scopes]
        result.note = _("两个字只查最近 %(days)d 天派发的工单；输入更多字可查全部。") % {"days": SHORT_QUERY_DAYS}
    digits = PHONE_JUNK_RE.sub("", unicodedata.normalize("NFKC", query))
    phone_ok = False
    hidden = None if access.sees_confidential_callers(user) else access.caller_hidden_q(user, "call__")
    terms = [digits] if numbers.ascii_digits(digits) else sorted(set(query.split()), key=len, reverse=True)[:5]
    if numbers.ascii_digits(digits):
        # Any part of an order number; the caller's phone for those who may search it.
        phone_ok = access.sees_phone_in_full(user) or len(digits) >= MIN_PHONE_DIGITS
        sides = [base.filter(number__contains=digits) for base in scopes]
        if phone_ok:
            sides += [base.filter(_any(["call__caller_phone"], digits, hidden)) for base in scopes]
        else:
            result.note = _("按电话查找须至少输入 %(n)d 位数字。") % {"n": MIN_PHONE_DIGITS}
    else:
        # Each side is one table's OR of indexed columns for the longest word (a BitmapOr on
        # PostgreSQL; an OR across the join would defeat the indexes); the other words filter it.
        rest = Q()
        for term in terms[1:]:
            rest &= _any(ORDER_TEXT + CALL_TEXT, term, hidden)
        sides = [
            base.filter(_any(fields, terms[0], hidden)).filter(rest)
            for base in scopes
            for fields in (ORDER_TEXT, CALL_TEXT)
        ]
    # Newest first: a word that is common fills the page from the last RECENT_DAYS alone (a short
    # walk of the dispatched_at index); only a rarer one needs the whole history (its matches are
    # few, which is what the trigram indexes find fast). Either way the page is the newest matches.
    # Digits (a number, a phone) are rare enough to go to the indexes straight away.
    # A street or department: words by walking its orders newest first (that beats any trigram
    # index, whose matches are city-wide); digits by walking its recent window only, then the
    # indexes for older history — a phone the unit never had must not walk a year of a busy street.
    found: dict[int, object] = {}
    older = sides
    if small_scope and not numbers.ascii_digits(digits):
        with _plan("walk"):
            for side in sides:
                for at, pk in _newest(side, LIMIT + 1):
                    found[pk] = at
        older = []
    elif small_scope or not numbers.ascii_digits(digits):
        since = (now or timezone.now()) - timedelta(days=RECENT_DAYS)
        with _plan("walk"):
            for side in sides:
                for at, pk in _newest(side.filter(dispatched_at__gte=since), LIMIT + 1):
                    found[pk] = at
        older = [side.filter(dispatched_at__lt=since) for side in sides]
    if len(found) <= LIMIT and older:
        with _plan("match"):
            for side in older:
                for at, pk in _newest(side, LIMIT + 1 - len(found)):
                    found[pk] = at
    ids = [pk for pk, _at in sorted(found.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)][: LIMIT + 1]
    rows = list(
        WorkOrder.objects.filter(pk__in=ids)
        .select_related("lead_unit", "street", "call")
        .order_by("-dispatched_at", "-id")[: LIMIT + 1]
    )
    result.cut_off = len(rows) > LIMIT
    result.orders = rows[:LIMIT]
    if phone_ok and not access.sees_phone_in_full(user):
        found_by_phone = [
            o for o in result.orders if digits in (o.call.caller_phone or "") and access.sees_caller(user, o.call)
        ]
        if found_by_phone:
            result.phone_searched = True
            with transaction.atomic():
                PersonalDataAccess.objects.bulk_create(
                    PersonalDataAccess(
                        user=user, call_id=o.call_id, field="caller_phone_search", via=via, ip_address=ip_address
                    )
                    for o in found_by_phone
                )
    return result
