"""Reads of the handling capability: the inbox with its tabs and counts, the order detail, the
district supervision figures. Everything is scoped through `hotline.access` and computed in the
database on indexed columns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hotline import access, refcache
from hotline.models import User
from workorders.lifecycle import guards
from workorders.models import (
    CLOCK_STATES,
    OPEN_STATES,
    OrderRequest,
    OrderState,
    WorkOrder,
)

TABS = [
    ("to_sign", _("待签收")),
    ("in_progress", _("办理中")),
    ("due_soon", _("即将超期")),
    ("overdue", _("已超期")),
    ("returned", _("退单待审")),
    ("closed", _("已办结")),
    ("assisting", _("协办/报到")),
]
TAB_NAMES = [t for t, _label in TABS]


def inbox_tab(value: str | None) -> str:
    """The tab a request asks for; an unknown one is the first tab (to sign)."""
    return value if value in TAB_NAMES else "to_sign"


def tab_q(tab: str, now: datetime) -> Q:
    if tab == "to_sign":
        return Q(state=OrderState.DISPATCHED)
    if tab == "in_progress":
        return Q(state__in=[OrderState.SIGNED, OrderState.PARKED])
    if tab == "due_soon":
        return Q(state__in=CLOCK_STATES, resolution_deadline__gt=now, resolution_warn_at__lte=now)
    if tab == "overdue":
        return Q(state__in=CLOCK_STATES, resolution_deadline__lte=now)
    if tab == "returned":
        return Q(state=OrderState.RETURN_REQUESTED)
    if tab == "closed":
        return Q(state__in=[OrderState.CLOSED, OrderState.COMPLETED])
    raise ValueError(tab)


# The inbox reads the two halves of access.visible_orders separately, so each uses its index.
inbox_scope = access.led_orders
assisting_scope = access.assisting_orders


def apply_filters(qs: QuerySet, filters: dict) -> QuerySet:
    if filters.get("category"):
        qs = qs.filter(category_id__in=refcache.category_and_descendants(filters["category"].pk))
    if filters.get("street"):
        qs = qs.filter(street_id=filters["street"])
    if filters.get("community"):
        qs = qs.filter(community_id=getattr(filters["community"], "pk", filters["community"]))
    if filters.get("request_type"):
        qs = qs.filter(request_type=filters["request_type"])
    if filters.get("tier"):
        qs = qs.filter(tier=filters["tier"])
    if filters.get("date_from"):
        qs = qs.filter(dispatched_at__gte=_start_of(filters["date_from"]))
    if filters.get("date_to"):
        qs = qs.filter(dispatched_at__lt=_start_of(filters["date_to"]) + timedelta(days=1))
    if filters.get("q"):
        q = filters["q"].strip()
        qs = qs.filter(number=q) if q.isdigit() else qs.filter(title__icontains=q)
    return qs


def _start_of(day):
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


SORTS = {
    "deadline": ["resolution_deadline", "id"],
    "-deadline": ["-resolution_deadline", "-id"],
    "-dispatched": ["-dispatched_at", "-id"],
}


def inbox_counts(user: User, *, filters: dict | None = None, now: datetime | None = None) -> dict[str, int]:
    """Counts for every tab in one aggregate query (plus one for the assisting tab)."""
    now = now or timezone.now()
    filters = filters or {}
    qs = apply_filters(inbox_scope(user), filters)
    # Count a column of the covering (unit/district, state, deadline) index: an index-only scan.
    counts = qs.aggregate(**{tab: Count("state", filter=tab_q(tab, now)) for tab in TAB_NAMES if tab != "assisting"})
    counts["assisting"] = apply_filters(assisting_scope(user), filters).filter(state__in=OPEN_STATES).count()
    return counts


def inbox_orders(user: User, *, tab: str, filters: dict | None = None, sort: str = "deadline", now=None) -> QuerySet:
    now = now or timezone.now()
    filters = filters or {}
    if tab == "assisting":
        qs = assisting_scope(user).filter(state__in=OPEN_STATES)
    else:
        qs = inbox_scope(user).filter(tab_q(tab, now))
    if tab == "closed" and sort == "deadline":
        sort = "-dispatched"  # newest first, straight off the (unit, dispatched_at) index
    return (
        apply_filters(qs, filters)
        .select_related("category", "lead_unit", "community")
        .order_by(*SORTS.get(sort, SORTS["deadline"]))
    )


@dataclass
class Clock:
    css: str  # ok / soon / overdue / paused / done
    label: str
    remaining: timedelta | None


def clock_of(order: WorkOrder, now: datetime | None = None) -> Clock:
    """Remaining time and colour of an order's resolution deadline."""
    now = now or timezone.now()
    if order.state in (OrderState.CLOSED, OrderState.COMPLETED):
        late = order.closed_at and order.closed_at > order.resolution_deadline
        return Clock("done", str(_("超期办结") if late else _("已办结")), None)
    if order.state == OrderState.PARKED:
        return Clock("paused", str(_("挂账中（计时暂停）")), None)
    remaining = order.resolution_deadline - now
    if remaining <= timedelta(0):
        return Clock("overdue", str(_("已超期 %(t)s")) % {"t": human_duration(-remaining)}, remaining)
    css = "soon" if order.resolution_warn_at and order.resolution_warn_at <= now else "ok"
    return Clock(css, str(_("剩余 %(t)s")) % {"t": human_duration(remaining)}, remaining)


def human_duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return str(_("%(d)s天%(h)s小时")) % {"d": days, "h": hours}
    if hours:
        return str(_("%(h)s小时%(m)s分")) % {"h": hours, "m": mins}
    return str(_("%(m)s分钟")) % {"m": mins}


# --- detail -----------------------------------------------------------------------------------
def order_for(user: User, pk: int) -> WorkOrder | None:
    return (
        access.visible_orders(user)
        .select_related("category", "lead_unit", "street", "community", "district", "tier", "call", "created_by")
        .filter(pk=pk)
        .first()
    )


def available_actions(order: WorkOrder, user: User) -> list[str]:
    """The actions this user may take on this order now: derived from the transitions' own guards."""
    return guards.permitted(order, user)


# --- district supervision -----------------------------------------------------------------------
def pending_approvals(district_id: int) -> QuerySet:
    """Returns and extensions in a district waiting for a ruling."""
    return OrderRequest.objects.filter(state=OrderRequest.State.PENDING, order__district_id=district_id)


def supervision(district_id: int, *, now: datetime | None = None, limit: int = 20) -> dict:
    now = now or timezone.now()
    orders = WorkOrder.objects.filter(district_id=district_id)
    related = ("category", "lead_unit", "community")  # what the table shows
    overdue_q, due_soon_q = tab_q("overdue", now), tab_q("due_soon", now)  # as the inbox tabs
    overdue = orders.filter(overdue_q).select_related(*related).order_by("resolution_deadline", "id")[:limit]
    due_soon = orders.filter(due_soon_q).select_related(*related).order_by("resolution_deadline", "id")[:limit]
    approvals = (
        pending_approvals(district_id).select_related("order", "unit", "requested_by").order_by("requested_at")[:100]
    )
    # Each unit's open load in one GROUP BY.
    load = (
        orders.filter(state__in=OPEN_STATES)
        .values("lead_unit_id", "lead_unit__name", "lead_unit__kind")
        .annotate(
            open=Count("pk"),
            to_sign=Count("pk", filter=tab_q("to_sign", now)),
            overdue=Count("pk", filter=overdue_q),
            due_soon=Count("pk", filter=due_soon_q),
            parked=Count("pk", filter=Q(state=OrderState.PARKED)),
        )
        .order_by("-overdue", "-open")
    )
    return {"overdue": list(overdue), "due_soon": list(due_soon), "approvals": list(approvals), "load": list(load)}
