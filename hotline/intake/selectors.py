from datetime import datetime, time, timedelta

from django.conf import settings
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.utils import timezone

from hotline import access
from hotline.intake import duplicates
from hotline.intake.duplicates import Incident
from hotline.models import Call, KnowledgeArticle, User
from workorders.models import OPEN_STATES


def day_start(now: datetime | None = None) -> datetime:
    now = timezone.localtime(now)
    return timezone.make_aware(datetime.combine(now.date(), time.min))


def calls_recent(*, user: User, limit: int = 10):
    return access.visible_calls(user).select_related("street", "district", "agent")[:limit]


# --- Call intake --------------------------------------------------------------------------------
def caller_history(*, user: User, phone: str, limit: int = 10) -> dict:
    """The caller's previous calls and open orders, newest first (phone already normalised). Shown
    as history beside the form, never made the default action: a caller's next call is as often a
    new problem as the old one again (duplicate_candidates decides by the incident)."""

    access.require(user, access.Cap.TAKE_CALLS)
    if not phone:
        return {"calls": [], "open_orders": []}
    calls = list(
        access.visible_calls(user, Call.objects.filter(caller_phone=phone))
        .select_related("category", "street", "order", "order__lead_unit")
        .order_by("-received_at", "-id")[:limit]
    )
    open_orders = list(
        access.visible_orders(user)
        .filter(call__caller_phone=phone, state__in=OPEN_STATES)
        .select_related("lead_unit", "category")
        .order_by("-dispatched_at", "-id")[:limit]
    )
    return {"calls": calls, "open_orders": open_orders}


# Orders of the window compared per lookup, newest first: one street's orders of a month at one
# level-1 category stay well below it; the comparison itself takes microseconds.
DUPLICATE_SCAN_LIMIT = 300


def duplicate_candidates(
    *,
    user: User,
    description: str,
    address: str = "",
    category=None,
    street=None,
    community=None,
    coords: tuple[float, float] | None = None,
    now=None,
    limit: int = 5,
) -> list[tuple]:
    """Orders that report the same incident as this call (hotline.intake.duplicates.compare): the
    same place, a similar description, a compatible category; open, or dispatched within
    DUPLICATE_WINDOW_DAYS. [(order, verdict)], the surest first. Whoever called does not matter."""

    access.require(user, access.Cap.TAKE_CALLS)
    if street is None or not (description or "").strip():
        return []
    since = (now or timezone.now()) - timedelta(days=settings.DUPLICATE_WINDOW_DAYS)
    qs = (
        access.visible_orders(user).filter(street=street).filter(Q(state__in=OPEN_STATES) | Q(dispatched_at__gte=since))
    )
    if category is not None:
        # unrelated categories are never proposed (duplicates.categories_related): one level-1 branch
        qs = qs.filter(category__code__startswith=category.code[:2])
    orders = list(
        qs.select_related("lead_unit", "category", "community", "call", "call__open311").order_by(
            "-dispatched_at", "-id"
        )[:DUPLICATE_SCAN_LIMIT]
    )
    new = Incident(
        description=description,
        address=address,
        category_code=category.code if category is not None else "",
        street_code=street.code,
        community_code=community.code if community is not None else "",
        coords=coords,
    )
    limits = duplicates.thresholds()
    found = []
    for order in orders:
        verdict = duplicates.compare(new, _incident_of(order), limits)
        if verdict.duplicate:
            found.append((order, verdict))
    found.sort(key=lambda pair: (pair[1].place, pair[1].score), reverse=True)
    return found[:limit]


def _incident_of(order) -> Incident:
    open311 = getattr(order.call, "open311", None) if hasattr(order.call, "open311") else None
    coords = None
    if open311 is not None and open311.lat is not None and open311.long is not None:
        coords = (float(open311.lat), float(open311.long))
    return Incident(
        description=order.call.description,
        address=order.address,
        category_code=order.category.code,
        street_code=order.street.code if order.street_id else "",
        community_code=order.community.code if order.community_id else "",
        coords=coords,
    )


def knowledge_search(*, query: str = "", category=None, limit: int = 20):
    """Active articles matching every word of the query (substring match, so it works for Chinese
    without a tokenizer), title hits first, then keyword hits, then body hits."""

    qs = KnowledgeArticle.objects.filter(is_active=True).select_related("category")
    words = [w for w in query.replace("，", " ").replace(",", " ").split() if w][:5]
    for word in words:
        qs = qs.filter(Q(title__icontains=word) | Q(keywords__icontains=word) | Q(body__icontains=word))
    if category is not None:
        qs = qs.filter(Q(category=category) | Q(category__children=category) | Q(category__children__children=category))
    if words:
        first = words[0]
        qs = qs.annotate(
            rank=Case(
                When(title__icontains=first, then=Value(0)),
                When(keywords__icontains=first, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        ).order_by("rank", "-updated_at", "-id")
    return list(qs.distinct()[:limit])


def intake_today(*, user: User, now=None) -> dict[str, int]:
    """Today's intake for the big-screen counter, within what the user may see."""

    counts = (
        access.visible_calls(user)
        .filter(received_at__gte=day_start(now))
        .aggregate(
            calls=Count("id"),
            orders=Count("id", filter=Q(outcome="order")),
            answered=Count("id", filter=Q(outcome="direct_answer")),
            duplicates=Count("id", filter=Q(outcome="duplicate")),
        )
    )
    return counts
