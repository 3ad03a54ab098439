"""Reads of the handling capability: the inbox with its tabs and counts, the order detail, the
district supervision figures. Everything is scoped through `hotline.access` and computed in the
database on indexed columns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from districts.models import Section
from hotline import access, numbers, pagination, refcache
from hotline.models import User
from workorders.lifecycle import actions
from workorders.models import (
    CLOCK_STATES,
    OPEN_STATES,
    Assignment,
    CloseProposal,
    ExclusionRequest,
    OrderRequest,
    OrderState,
    Whistle,
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


def inbox_tab(value: str | None, *, user: User | None = None) -> str:
    """The tab a request asks for; without one, where the user's work is: the first tab (to sign),
    or "in progress" for whoever never signs (a section member works on orders already signed)."""
    if value in TAB_NAMES:
        return value
    if user is not None and access.section_of(user) is not None:
        return "in_progress"
    return "to_sign"


def tab_q(tab: str, now: datetime) -> Q:
    if tab == "to_sign":
        return Q(state=OrderState.DISPATCHED)
    if tab == "in_progress":
        return Q(state__in=[OrderState.SIGNED, OrderState.PARKED])
    # Overdue is the binding clock's: the response clock until the caller was contacted, then the
    # resolution clock — the same rule as the red mark on each row (clock_of).
    response_overdue = Q(responded_at__isnull=True, response_deadline__lte=now)
    if tab == "due_soon":
        return Q(state__in=CLOCK_STATES, resolution_deadline__gt=now, resolution_warn_at__lte=now) & ~response_overdue
    if tab == "overdue":
        return Q(state__in=CLOCK_STATES) & (Q(resolution_deadline__lte=now) | response_overdue)
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
    owner = filters.get("owner")
    if owner == "none":
        qs = qs.filter(section__isnull=True, assignee__isnull=True)
    elif (section_id := numbers.parse_id(owner)) is not None:
        qs = qs.filter(section_id=section_id)
    if filters.get("assignee"):
        qs = qs.filter(assignee_id=filters["assignee"])
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


OPEN_TABS = [t for t in TAB_NAMES if t not in ("closed", "assisting")]


def inbox_counts(user: User, *, filters: dict | None = None, now: datetime | None = None) -> dict:
    """Counts for every tab. The open tabs come from one aggregate over the unit's open orders only
    (a range of the (unit/district, state, deadline) index per open state), so their cost follows
    the work in hand, not the years behind it; the closed tab is counted up to the list cap
    (hotline.pagination) and `capped` names the tabs whose count was cut off there."""
    now = now or timezone.now()
    filters = filters or {}
    qs = apply_filters(inbox_scope(user), filters)
    # Count a column of the covering (unit/district, state, deadline) index: an index-only scan.
    counts = qs.filter(state__in=OPEN_STATES).aggregate(
        **{tab: Count("state", filter=tab_q(tab, now)) for tab in OPEN_TABS}
    )
    closed = pagination.capped_count(qs.filter(tab_q("closed", now)))
    assisting = pagination.capped_count(apply_filters(assisting_scope(user), filters).filter(state__in=OPEN_STATES))
    cap = pagination.count_cap()
    counts["closed"], counts["assisting"] = min(closed, cap), min(assisting, cap)
    counts["capped"] = [tab for tab, n in (("closed", closed), ("assisting", assisting)) if n > cap]
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
        .select_related("category", "lead_unit", "community", "section", "assignee")
        .annotate(whistle_waiting=whistle_waiting(), proposal_waiting=proposal_waiting())
        .order_by(*SORTS.get(sort, SORTS["deadline"]))
    )


def proposal_waiting():
    """A section's proposal to close waits for the center's review (a badge; only the shown rows ask)."""
    return Exists(CloseProposal.objects.filter(order_id=OuterRef("pk"), state=CloseProposal.State.PENDING))


def whistle_waiting():
    """A department was whistled in and has not reported yet (a badge; only the shown rows ask)."""
    return Exists(Whistle.objects.filter(order_id=OuterRef("pk"), state=Whistle.State.OPEN))


@dataclass
class Clock:
    css: str  # ok / soon / overdue / paused / done
    label: str
    remaining: timedelta | None
    which: str = "resolution"  # the clock that binds: response / resolution / internal
    deadline: datetime | None = None


CLOCK_NAMES = {
    "response": _("响应"),
    "resolution": _("办结"),
    "internal": _("内部时限"),
}


def clock_of(order: WorkOrder, now: datetime | None = None, *, user: User | None = None) -> Clock:
    """The clock that binds now, with its colour: the response clock until the caller was contacted,
    then the resolution clock; for a member of the sub-unit the order is assigned to, the internal due
    time of the assignment when there is one."""
    now = now or timezone.now()
    if order.state in (OrderState.CLOSED, OrderState.COMPLETED):
        late = order.closed_at and order.closed_at > order.resolution_deadline
        return Clock("done", str(_("超期办结") if late else _("已办结")), None)
    if order.state == OrderState.PARKED:
        return Clock("paused", str(_("挂账中（计时暂停）")), None)
    if order.state == OrderState.MERGED:
        return Clock("done", str(_("已并单（计时停止）")), None)
    if user is not None and order.internal_due_at and access.section_of(user) is not None:
        which, deadline, warn_at = "internal", order.internal_due_at, order.internal_warn_at
    elif order.responded_at is None:
        which, deadline, warn_at = "response", order.response_deadline, order.response_warn_at
    else:
        which, deadline, warn_at = "resolution", order.resolution_deadline, order.resolution_warn_at
    name = CLOCK_NAMES[which]
    remaining = deadline - now
    if remaining <= timedelta(0):
        label = str(_("%(clock)s已超期 %(t)s")) % {"clock": name, "t": human_duration(-remaining)}
        return Clock("overdue", label, remaining, which, deadline)
    css = "soon" if warn_at and warn_at <= now else "ok"
    label = str(_("%(clock)s剩余 %(t)s")) % {"clock": name, "t": human_duration(remaining)}
    return Clock(css, label, remaining, which, deadline)


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
def moved_away(user: User, pk: int) -> str | None:
    """The number of an order this user was told about or worked on but may no longer see (reassigned
    inside the unit, re-routed to another unit), so a link from a notification or an e-mail can say
    so; None for an order the user never had anything to do with (that stays a plain 404)."""
    from workorders.models import Notification, OrderEvent

    if not (
        Notification.objects.filter(user_id=user.pk, order_id=pk).exists()
        or OrderEvent.objects.filter(order_id=pk, actor_id=user.pk).exists()
    ):
        return None
    return WorkOrder.objects.filter(pk=pk).values_list("number", flat=True).first()


def order_for(user: User, pk: int) -> WorkOrder | None:
    return (
        access.visible_orders(user)
        .select_related(
            "category",
            "lead_unit",
            "street",
            "community",
            "district",
            "tier",
            "call",
            "created_by",
            "section",
            "assignee",
        )
        .filter(pk=pk)
        .first()
    )


def related_orders(order: WorkOrder, user: User) -> dict:
    """并单 and 拆单 links of an order, as this user may see them: the order it was merged into, the
    orders merged into it (each with its caller as the viewer may see them: hotline.privacy), and the
    other orders split from the same call. `linkable`: the ids the viewer may open."""
    from hotline.privacy import caller_view

    merged = list(
        WorkOrder.objects.filter(merged_into_id=order.pk).select_related("call", "lead_unit").order_by("merged_at")
    )
    parent = order.parent_call_id or order.call_id
    family = list(
        WorkOrder.objects.filter(Q(parent_call_id=parent) | Q(call_id=parent))
        .exclude(pk=order.pk)
        .select_related("lead_unit", "category")
        .order_by("id")
    )
    if not order.parent_call_id and not any(o.parent_call_id == parent for o in family):
        family = []
    target = order.merged_into if order.merged_into_id else None
    ids = [o.pk for o in [*merged, *family]] + ([target.pk] if target else [])
    linkable = set(access.visible_orders(user).filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
    return {
        "merged_into": target,
        "merged": [(o, caller_view(user, o.call, o.address)) for o in merged],
        "family": family,
        "linkable": linkable,
        "any": bool(target or merged or family),
    }


def available_actions(order: WorkOrder, user: User) -> list[str]:
    """The actions this user may take on this order now: the action table's rows the transitions check."""
    return actions.permitted(order, user)


# --- district supervision -----------------------------------------------------------------------
def pending_approvals(district_id: int) -> QuerySet:
    """Returns and extensions in a district waiting for a ruling."""
    return OrderRequest.objects.filter(state=OrderRequest.State.PENDING, order__district_id=district_id)


def supervision(
    district_id: int, *, now: datetime | None = None, limit: int = 20, limit_approvals: int = 100, city: bool = False
) -> dict:
    now = now or timezone.now()
    orders = WorkOrder.objects.filter(district_id=district_id)
    related = ("category", "lead_unit", "community")  # what the table shows
    overdue_q, due_soon_q = tab_q("overdue", now), tab_q("due_soon", now)  # as the inbox tabs
    overdue = orders.filter(overdue_q).select_related(*related).order_by("resolution_deadline", "id")[:limit]
    due_soon = orders.filter(due_soon_q).select_related(*related).order_by("resolution_deadline", "id")[:limit]
    approvals_qs = pending_approvals(district_id)
    approvals = approvals_qs.select_related("order", "unit", "requested_by").order_by("requested_at")[:limit_approvals]
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
    load = list(load)
    # Exclusions waiting at this level: the district's first ruling, or the city's for this district.
    exclusion_state = ExclusionRequest.State.PENDING_CITY if city else ExclusionRequest.State.PENDING_DISTRICT
    exclusions_qs = ExclusionRequest.objects.filter(state=exclusion_state, order__district_id=district_id)
    exclusions = exclusions_qs.select_related("order", "unit").order_by("created_at")[:limit_approvals]
    return {
        "overdue": list(overdue),
        "due_soon": list(due_soon),
        "approvals": list(approvals),
        "load": load,
        # every list here is cut off: the totals say by how much (the load rows hold the tab totals)
        "overdue_total": sum(r["overdue"] for r in load),
        "due_soon_total": sum(r["due_soon"] for r in load),
        "approvals_total": approvals_qs.count(),
        "exclusions": list(exclusions),
        "exclusions_total": exclusions_qs.count(),
    }


# --- inside the unit (二次派单) ----------------------------------------------------------------------
def internal_load(user: User, *, now: datetime | None = None) -> list[dict]:
    """The unit center's view of its internal owners: open orders per section/community (and not yet
    assigned), with those overdue on the hotline's clock and on the internal due time. One GROUP BY
    over the unit's open orders (the (unit, deadline) partial index)."""
    if not access.is_unit_center(user):
        return []
    now = now or timezone.now()
    rows = list(
        WorkOrder.objects.filter(lead_unit_id=user.unit_id, state__in=OPEN_STATES)
        .values("section_id")
        .annotate(
            open=Count("state"),  # columns of the (unit, section, state, deadline, internal due) index only
            overdue=Count("state", filter=tab_q("overdue", now)),
            internal_overdue=Count("state", filter=Q(internal_due_at__lte=now)),
        )
        .order_by()
    )
    names = dict(
        Section.objects.filter(pk__in=[r["section_id"] for r in rows if r["section_id"]]).values_list("pk", "name")
    )
    for r in rows:
        r["section__name"] = names.get(r["section_id"], "")
    return sorted(rows, key=lambda r: (r["section_id"] is not None, r["section__name"]))


def pending_proposal(order: WorkOrder):
    return order.close_proposals.filter(state="pending").select_related("proposed_by").first()


def internal_scorecard(user: User, *, since: datetime) -> list[dict]:
    """Per section/community of the center's unit, over the assignments made since `since`: the load
    now (current assignments), the median internal response (assignment → the sub-unit's first
    contact, note or proposal), how many ran past their internal due time, and the re-dispatch rate
    (assignments that ended by being reassigned elsewhere). Computed in the database: one GROUP BY,
    one windowed median query."""
    if not access.is_unit_center(user):
        return []
    unit_id = user.unit_id
    sections = {s.pk: s for s in Section.objects.filter(unit_id=unit_id).order_by("kind", "sort", "name")}
    rows = {
        r["section_id"]: r
        for r in Assignment.objects.filter(unit_id=unit_id, section__isnull=False, assigned_at__gte=since)
        .values("section_id")
        .annotate(
            assigned=Count("pk"),
            overdue=Count("pk", filter=Q(overdue_at__isnull=False)),
            reassigned=Count("pk", filter=Q(end=Assignment.End.REASSIGNED)),
        )
    }
    load = dict(
        Assignment.objects.filter(unit_id=unit_id, section__isnull=False, ended_at__isnull=True)
        .values_list("section_id")
        .annotate(n=Count("pk"))
    )
    table = Assignment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT section_id, AVG(response_seconds) FROM (
                  SELECT section_id, response_seconds,
                         ROW_NUMBER() OVER (PARTITION BY section_id ORDER BY response_seconds) AS rn,
                         COUNT(*) OVER (PARTITION BY section_id) AS n
                  FROM {table}
                  WHERE unit_id = %s AND section_id IS NOT NULL AND assigned_at >= %s
                        AND response_seconds IS NOT NULL
                ) ranked WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY section_id""",
            [unit_id, since],
        )
        medians = {section_id: value for section_id, value in cursor.fetchall()}
    out = []
    for pk, section in sections.items():
        r = rows.get(pk, {})
        assigned = r.get("assigned", 0)
        median = medians.get(pk)
        out.append(
            {
                "section": section,
                "load": load.get(pk, 0),
                "assigned": assigned,
                "overdue": r.get("overdue", 0),
                "reassigned": r.get("reassigned", 0),
                "redispatch_rate": (r.get("reassigned", 0) / assigned) if assigned else None,
                "median_response": timedelta(seconds=float(median)) if median is not None else None,
            }
        )
    return out
