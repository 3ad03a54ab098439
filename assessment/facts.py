"""Writes of assessment facts (assessment.models.CallbackFact / ExclusionFact). Facts are only ever
added: the callback transition adds one per round, the exclusion transitions add an approval or a
revocation, a correction adds a fact that supersedes another with a reason. Called inside the
transition's transaction, with the order row locked."""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment import rates
from assessment.models import AssessScope, CallbackFact, ExclusionFact
from assessment.rulesets import ruleset_active
from hotline import access
from hotline.errors import DomainError
from hotline.models import User
from workorders.lifecycle.machinery import lock
from workorders.models import Callback, ExclusionRequest, WorkOrder


def _scope_now(category_id: int, request_type: str) -> tuple[str, int]:
    ruleset = ruleset_active()
    return rates.scope_of(ruleset, category_id=category_id, request_type=request_type), ruleset.version


def record_callback(
    order,
    *,
    round: int,
    at: datetime,
    valid: bool,
    callback=None,
    unit_id: int | None = None,
    contacted: bool | None = None,
    solved: str = "",
    satisfaction: str = "",
    comment: str = "",
    invalid_reason: str = "",
    actor: User | None = None,
) -> CallbackFact:
    """The fact of one finished callback round. A round that already has its fact keeps it (the
    double-submit protection of the callback transition is the first line; this is the second)."""
    existing = CallbackFact.objects.filter(order_id=order.pk, round=round, supersedes__isnull=True).first()
    if existing is not None:
        return existing
    scope, version = _scope_now(order.category_id, order.request_type)
    return CallbackFact.objects.create(
        order_id=order.pk,
        round=round,
        callback=callback,
        assessed_unit_id=unit_id if unit_id is not None else order.lead_unit_id,
        district_id=order.district_id,
        category_id=order.category_id,
        request_type=order.request_type,
        callback_at=at,
        valid=valid,
        invalid_reason=invalid_reason,
        contacted=contacted,
        solved=solved or "",
        satisfaction=satisfaction or "",
        comment=comment or "",
        scope=scope,
        ruleset_version=version,
        recorded_at=at,
        recorded_by=actor,
    )


def current_fact(order_id: int) -> CallbackFact | None:
    """The order's latest current callback fact (highest round)."""
    return rates.current_facts().filter(order_id=order_id).order_by("-round", "-id").first()


def record_exclusion(order, *, request, at: datetime, actor: User | None, note: str = "") -> ExclusionFact:
    return ExclusionFact.objects.create(
        order_id=order.pk,
        request=request,
        kind=ExclusionFact.Kind.APPROVED,
        at=at,
        excludes=current_fact(order.pk),
        note=note,
        recorded_by=actor,
    )


def record_revocation(order, *, request, at: datetime, actor: User | None, note: str = "") -> ExclusionFact | None:
    """The revocation of the order's standing approval (None when there is none to revoke)."""
    approval = (
        ExclusionFact.objects.filter(order_id=order.pk, kind=ExclusionFact.Kind.APPROVED, revoked_by__isnull=True)
        .order_by("-at", "-id")
        .first()
    )
    if approval is None:
        return None
    return ExclusionFact.objects.create(
        order_id=order.pk,
        request=request,
        kind=ExclusionFact.Kind.REVOKED,
        at=at,
        revokes=approval,
        excludes=approval.excludes,
        note=note,
        recorded_by=actor,
    )


CORRECTABLE = ("assessed_unit_id", "callback_at", "valid", "contacted", "solved", "satisfaction", "invalid_reason")


def correct(
    fact: CallbackFact | int, *, acting_user: User, reason: str, now: datetime | None = None, **changes
) -> CallbackFact:
    """A correction by the city: a new fact for the same order and round that supersedes `fact`
    (which must be current), with a reason. E.g. the order re-assigned to another unit
    (assessed_unit_id) or a mis-keyed answer."""
    access.require(acting_user, access.Cap.RULE_ASSESSMENT)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("更正必须填写理由。"), code="reason_required")
    unknown = set(changes) - set(CORRECTABLE)
    if unknown:
        raise DomainError(_("不能更正的项：%(names)s") % {"names": ", ".join(sorted(unknown))}, code="invalid")
    now = now or timezone.now()
    with transaction.atomic():
        pk = fact.pk if isinstance(fact, CallbackFact) else fact
        # Lock the order: corrections of one order are serialised with its transitions.
        old = CallbackFact.objects.get(pk=pk)
        lock(old.order_id)
        if CallbackFact.objects.filter(supersedes_id=pk).exists():
            raise DomainError(_("该事实已被更正，请更正最新的事实。"), code="superseded")
        values = {f.attname: getattr(old, f.attname) for f in CallbackFact._meta.concrete_fields if f.attname != "id"}
        values.update(changes)
        values.update(supersedes_id=old.pk, reason=reason[:200], recorded_at=now, recorded_by_id=acting_user.pk)
        return CallbackFact.objects.create(**values)


# --- Backfill --------------------------------------------------------------------------------------
def backfill_sql(fact_t: str, excl_t: str, order_t: str, callback_t: str, request_t: str) -> list[str]:
    """One fact per order with a valid callback and none yet, from the order's outcome columns (the
    round: that of its latest valid Callback row, else the order's current round); an approval fact
    per excluded order. Shared by the data migration and demo/bench data."""
    return [
        f"""
        INSERT INTO {fact_t} (order_id, round, callback_id, assessed_unit_id, district_id, category_id,
                              request_type, callback_at, valid, invalid_reason, contacted, solved,
                              satisfaction, comment, scope, ruleset_version, recorded_at, reason)
        SELECT x.id, x.round, NULL, x.unit_id, x.district_id, x.category_id, x.request_type, x.callback_at,
               TRUE, '', x.contacted, x.solved, x.satisfaction,
               COALESCE((SELECT c.comment FROM {callback_t} c WHERE c.order_id = x.id AND c.round = x.round), ''),
               '{AssessScope.FULL}', NULL, x.callback_at, ''
          FROM (SELECT o.id, COALESCE((SELECT c.round FROM {callback_t} c
                                        WHERE c.order_id = o.id AND c.status = 'valid'
                                        ORDER BY c.order_id, c.round DESC LIMIT 1), o.round) AS round,
                       COALESCE(o.assessed_unit_id, o.lead_unit_id) AS unit_id, o.district_id, o.category_id,
                       o.request_type, o.callback_at, o.contacted, o.solved, o.satisfaction
                  FROM {order_t} o
                 WHERE o.callback_valid = TRUE AND o.callback_at IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM {fact_t} f WHERE f.order_id = o.id)) x
        """,
        f"""
        INSERT INTO {excl_t} (order_id, request_id, kind, at, excludes_id, revokes_id, note)
        SELECT o.id,
               (SELECT MAX(r.id) FROM {request_t} r WHERE r.order_id = o.id AND r.state = 'approved'),
               'approved',
               COALESCE((SELECT MAX(r.city_decided_at) FROM {request_t} r
                          WHERE r.order_id = o.id AND r.state = 'approved'), o.callback_at, o.dispatched_at),
               (SELECT f.id FROM {fact_t} f WHERE f.order_id = o.id ORDER BY f.order_id, f.round DESC LIMIT 1),
               NULL, ''
          FROM {order_t} o
         WHERE o.excluded = TRUE AND NOT EXISTS (SELECT 1 FROM {excl_t} e WHERE e.order_id = o.id)
        """,
    ]


def backfill() -> None:
    """Facts for orders written without the transitions (demo data, generated benchmark data)."""
    tables = (
        CallbackFact._meta.db_table,
        ExclusionFact._meta.db_table,
        WorkOrder._meta.db_table,
        Callback._meta.db_table,
        ExclusionRequest._meta.db_table,
    )
    with connection.cursor() as cursor:
        for sql in backfill_sql(*tables):
            cursor.execute(sql)
