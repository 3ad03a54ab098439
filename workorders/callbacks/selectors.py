"""Reads for the callback stage: the callback queue, an order's callbacks and history, exclusions.
Every queryset is scoped through hotline.access."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db.models import Case, F, IntegerField, Prefetch, QuerySet, Value, When
from django.utils import timezone

from hotline import access
from hotline.errors import AccessDenied
from hotline.models import User
from workorders.lifecycle.callbacks import awaiting_callback_q, done_callback_exists
from workorders.lifecycle.deadlines import add_workdays
from workorders.lifecycle.machinery import EVENT_LABELS
from workorders.models import (
    Callback,
    CallbackAttempt,
    ExclusionRequest,
    OrderEvent,
    OrderState,
    SelfEvaluationLink,
    WorkOrder,
)

QUEUE_KINDS = ("closed", "overdue")


def callback_queue(
    *,
    user: User,
    now: datetime | None = None,
    kind: str = "",
    district: int | None = None,
    lead_unit: int | None = None,
    q: str = "",
) -> QuerySet:
    """Orders awaiting a callback, oldest first: closed by their unit (since when closed) and still
    open past their resolution limit (since when the limit ran out); those whose current round is
    already called back are left out."""
    if not access.may(user, access.Cap.CALL_BACK):
        raise AccessDenied()
    now = now or timezone.now()
    qs = access.visible_orders(user).filter(awaiting_callback_q(now))
    if kind == "closed":
        qs = qs.filter(state=OrderState.CLOSED)
    elif kind == "overdue":
        qs = qs.exclude(state=OrderState.CLOSED)
    if district:
        qs = qs.filter(district_id=district)
    if lead_unit:
        qs = qs.filter(lead_unit_id=lead_unit)
    if q:
        qs = qs.filter(number__startswith=q.strip()) if q.strip().isdigit() else qs.filter(title__icontains=q.strip())
    return (
        qs.exclude(done_callback_exists())
        .annotate(
            waiting_since=Case(
                When(state=OrderState.CLOSED, then=F("closed_at")),
                default=F("resolution_deadline"),
            ),
            is_overdue=Case(
                When(state=OrderState.CLOSED, then=Value(0)), default=Value(1), output_field=IntegerField()
            ),
        )
        .select_related("lead_unit", "district", "street", "category")
        # The same expression as the proposed partial index (see bench/bench_callback.py), so the
        # first page is read in index order and stops after 50 rows.
        .order_by("waiting_since", "id")
    )


def callback_due(waiting_since: datetime) -> datetime:
    """When the callback is due: CALLBACK_LIMIT_WORKDAYS working days (China's calendar) after the
    order started waiting for it (closed, or its resolution limit ran out)."""
    return add_workdays(waiting_since, settings.CALLBACK_LIMIT_WORKDAYS)


def waiting_since_of(order: WorkOrder) -> datetime:
    """The same moment the queue's `waiting_since` annotation computes, for one loaded order."""
    return order.closed_at if order.state == OrderState.CLOSED and order.closed_at else order.resolution_deadline


def with_due_times(orders, now: datetime) -> list[WorkOrder]:
    """The orders of one page with `callback_due` and `callback_late` set (a page at a time: the
    working-day count is Python, the queue's order — oldest waiting first — is already due order)."""
    orders = list(orders)
    for o in orders:
        o.callback_due = callback_due(o.waiting_since)
        o.callback_late = o.callback_due < now
    return orders


def closing_status(order: WorkOrder, now: datetime) -> str:
    """What the callback page says about the unit's closing: "closed" (its note is shown), "overdue"
    (still open past the resolution limit: a callback for being late), or "in_progress" (this round
    is still being handled within its limit, e.g. a fresh round after a re-dispatch)."""
    if order.state in (OrderState.CLOSED, OrderState.COMPLETED):
        return "closed"
    return "overdue" if order.resolution_deadline < now else "in_progress"


def callback_order(*, user: User, pk: int) -> WorkOrder:
    """One order for the callback page (any state: agents look back at finished callbacks too)."""
    if not access.may(user, access.Cap.CALL_BACK):
        raise AccessDenied()
    return (
        access.visible_orders(user)
        .select_related("call", "lead_unit", "district", "street", "category", "tier", "assessed_unit")
        .get(pk=pk)
    )


def callbacks_of(order: WorkOrder) -> QuerySet:
    return (
        Callback.objects.filter(order=order)
        .select_related("agent")
        .prefetch_related(Prefetch("attempts", queryset=CallbackAttempt.objects.select_related("agent")))
        .order_by("round")
    )


def history(order: WorkOrder) -> list[OrderEvent]:
    # in the order written (ids follow the order's row lock; `at` is read from a clock before it)
    events = list(OrderEvent.objects.filter(order=order).select_related("actor", "actor_unit").order_by("id"))
    for event in events:
        event.label = EVENT_LABELS.get(event.kind) or event.kind
    return events


def self_evaluation_links(order: WorkOrder) -> QuerySet:
    return SelfEvaluationLink.objects.filter(order=order, round=order.round).order_by("-created_at")


PENDING_FIRST = Case(
    When(state__in=["pending_district", "pending_city"], then=Value(0)),
    default=Value(1),
    output_field=IntegerField(),
)


def exclusion_list(*, user: User, state: str = "") -> QuerySet:
    qs = access.visible_exclusion_requests(user)
    if state:
        qs = qs.filter(state=state)
    return (
        qs.select_related("order", "order__district", "unit", "requested_by")
        .annotate(pending_first=PENDING_FIRST)
        .order_by("pending_first", "-created_at", "-id")
    )


def exclusion_get(*, user: User, pk: int) -> ExclusionRequest:
    return (
        access.visible_exclusion_requests(user)
        .select_related(
            "order",
            "order__district",
            "unit",
            "requested_by",
            "district_decided_by",
            "city_decided_by",
            "revoked_by",
        )
        .prefetch_related("evidence")
        .get(pk=pk)
    )


def exclusions_of_order(*, user: User, order: WorkOrder) -> QuerySet:
    return exclusion_list(user=user).filter(order=order)
