from datetime import datetime, time, timedelta

from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.utils import timezone

from hotline import access
from hotline.models import Call, KnowledgeArticle, User
from workorders.models import OPEN_STATES


def day_start(now: datetime | None = None) -> datetime:
    now = timezone.localtime(now)
    return timezone.make_aware(datetime.combine(now.date(), time.min))


def calls_recent(*, user: User, limit: int = 10):
    return access.visible_calls(user).select_related("street", "district", "agent")[:limit]


# --- Call intake --------------------------------------------------------------------------------
DUPLICATE_WINDOW_DAYS = 30


def caller_history(*, user: User, phone: str, limit: int = 10) -> dict:
    """The caller's previous calls and open orders, newest first (phone already normalised)."""

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


def possible_duplicates(
    *, user: User, category, street=None, community=None, address: str = "", now=None, limit: int = 10
):
    """Orders that may be the same problem (重复诉求): same category and the same community or the
    same address, still open or dispatched within the last 30 days."""

    access.require(user, access.Cap.TAKE_CALLS)
    if category is None:
        return []
    # The community is found from the address, so the same address is always the same community:
    # the address comparison is needed only where no community was recognised.
    if community is not None:
        place = Q(community=community)
    elif street is not None and address:
        place = Q(street=street, address=address)
    else:
        return []
    since = (now or timezone.now()) - timedelta(days=DUPLICATE_WINDOW_DAYS)
    return list(
        access.visible_orders(user)
        .filter(place, category=category)
        .filter(Q(state__in=OPEN_STATES) | Q(dispatched_at__gte=since))
        .select_related("lead_unit", "category", "community")
        .order_by("-dispatched_at", "-id")[:limit]
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
