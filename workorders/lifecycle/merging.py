"""并单: open orders about one incident become one surviving order (national rules, 国办函〔2025〕66号).

Rules (README, "并单 and 拆单"):
- Who: the city center, for any open orders; the lead unit's center, for orders it leads itself
  (which are then all in its district). Orders of different districts need the city center.
- Which: the surviving order and each merged order are open (待签收, 办理中, 挂账), with no return or
  extension waiting for a ruling and no proposal to close waiting; never an order with itself, an
  order already merged, or one the actor may not see. Any refusal changes nothing.
- What happens: each merged order leaves every inbox (state "merged", `merged_into` the survivor);
  its clocks stop where they were (the sweep and the callback queue read open/closed states only);
  its round and its callback facts, if any, stay as history. The survivor keeps its own clocks,
  round and tier: one assessment fact per round of the surviving order, never one per caller.
  Each merged caller gets a text message naming the surviving order (a mobile number; others are
  listed on the survivor's page for the callback desk); the survivor's callers are listed on its
  page. Both orders record the merge in their history.
- Undo: the city center, within MERGE_UNDO_HOURS of the merge: the merged order returns to the
  state it had, with its clocks as they were (time spent merged counts; the sweep catches up).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from districts.models import Unit
from hotline import access
from hotline.errors import AccessDenied, DomainError
from hotline.models import Role, SmsMessage, User
from workorders.lifecycle import actions
from workorders.lifecycle.machinery import Ev, as_now, clean_text, record
from workorders.models import CloseProposal, OrderRequest, OrderState, WorkOrder

MERGEABLE_STATES = (OrderState.DISPATCHED, OrderState.SIGNED, OrderState.PARKED)
MOBILE_DIGITS = 11


def _refuse_merged(survivor: WorkOrder, other: WorkOrder, actor: User) -> None:
    """The restrictions on one merged order (the survivor's own are its row in the action table)."""
    if other.pk == survivor.pk:
        raise DomainError(_("不能把工单与其自身合并。"), code="self")
    if other.state not in MERGEABLE_STATES:
        raise DomainError(
            _("工单 %(number)s 当前状态为“%(state)s”，不能并单（只能合并待签收、办理中或挂账的工单）。")
            % {"number": other.number, "state": other.get_state_display()},
            code="invalid_state",
        )
    if access.role_of(actor) != Role.CITY:
        if other.district_id != survivor.district_id:
            raise AccessDenied(_("跨区并单须由市热线中心办理。"))
        if other.lead_unit_id != actor.unit_id:
            raise AccessDenied(_("工单 %(number)s 不由本单位主办，只有市热线中心可以合并。") % {"number": other.number})
    if OrderRequest.objects.filter(order_id=other.pk, state=OrderRequest.State.PENDING).exists():
        raise DomainError(
            _("工单 %(number)s 有待审批的退单/延期申请，不能并单。") % {"number": other.number}, code="pending_request"
        )
    if CloseProposal.objects.filter(order_id=other.pk, state=CloseProposal.State.PENDING).exists():
        raise DomainError(
            _("工单 %(number)s 有待审核的拟办结申请，不能并单。") % {"number": other.number}, code="pending_proposal"
        )


def order_merge(
    order: WorkOrder,
    *,
    actor: User,
    others: Iterable[WorkOrder | int],
    reason: str,
    now: datetime | None = None,
) -> WorkOrder:
    """Merge `others` into `order` (the surviving order). Returns the survivor."""
    now = as_now(now)
    reason = clean_text(reason, label=_("并单理由"))
    other_ids = sorted({o.pk if isinstance(o, WorkOrder) else int(o) for o in others})
    if not other_ids:
        raise DomainError(_("请指定要并入的工单。"), code="required")
    if order.pk in other_ids:
        raise DomainError(_("不能把工单与其自身合并。"), code="self")
    with transaction.atomic():
        # Every row locked in one order (by pk) before any check: two merges never deadlock.
        visible = set(access.visible_orders(actor).filter(pk__in=[order.pk, *other_ids]).values_list("pk", flat=True))
        locked = {
            o.pk: o for o in WorkOrder.objects.select_for_update().filter(pk__in=[order.pk, *other_ids]).order_by("pk")
        }
        survivor = locked.get(order.pk)
        if survivor is None or order.pk not in visible:
            raise DomainError(_("工单不存在或您无权查看。"), code="not_found")
        actions.check(survivor, actor, "merge", now=now)
        merged = []
        for pk in other_ids:
            other = locked.get(pk)
            if other is None or pk not in visible:
                raise DomainError(_("要并入的工单不存在或您无权查看。"), code="not_found")
            _refuse_merged(survivor, other, actor)
            merged.append(other)
        for other in merged:
            previous = other.state
            other.state, other.merged_into, other.merged_at, other.merged_from_state = (
                OrderState.MERGED,
                survivor,
                now,
                previous,
            )
            other.save(update_fields=["state", "merged_into", "merged_at", "merged_from_state"])
            record(
                other,
                kind=Ev.MERGED_INTO,
                actor=actor,
                from_state=previous,
                to_state=OrderState.MERGED,
                at=now,
                note=reason,
                data={"into": survivor.pk, "into_number": survivor.number},
            )
        record(
            survivor,
            kind=Ev.MERGED,
            actor=actor,
            at=now,
            note=reason,
            data={"orders": [o.pk for o in merged], "numbers": [o.number for o in merged]},
        )
        for other in merged:
            _text_caller(other, survivor, actor)
        numbers = "、".join(o.number for o in merged)
        actions.tell(
            "merge",
            survivor,
            to="lead_unit",
            title=_("工单 %(numbers)s 已并入 %(n)s") % {"numbers": numbers, "n": survivor.number},
        )
        others_leads = {o.lead_unit_id for o in merged} - {survivor.lead_unit_id}
        if others_leads:
            actions.tell(
                "merge",
                survivor,
                to="merged_leads",
                title=_("工单 %(numbers)s 已并入 %(n)s，无需再办理") % {"numbers": numbers, "n": survivor.number},
                units=Unit.objects.filter(pk__in=others_leads),
            )
    return survivor


def _text_caller(merged: WorkOrder, survivor: WorkOrder, actor: User) -> None:
    """Tell a merged order's caller (a mobile) which order now carries their request, by SMS."""
    phone = merged.call.caller_phone or ""
    if not (len(phone) == MOBILE_DIGITS and phone.isdigit() and phone.startswith("1")):
        return
    text = _("【12345】您反映的问题（工单 %(old)s）与同一事项的工单 %(new)s 合并办理，办理结果将回访告知您。") % {
        "old": merged.number,
        "new": survivor.number,
    }
    message = SmsMessage.objects.create(
        order=merged,
        purpose=SmsMessage.Purpose.MERGED,
        phone=phone,
        text=text,
        created_by=actor,
        backend=settings.SMS_BACKEND,
    )
    # By name, as hotline.intake.sms queues it: sent by the worker after the commit.
    transaction.on_commit(lambda: current_app.send_task("hotline.tasks.send_sms", args=[message.pk]))


def order_unmerge(order: WorkOrder, *, actor: User, reason: str, now: datetime | None = None) -> WorkOrder:
    """Undo a merge (the city center, within MERGE_UNDO_HOURS): the merged order goes back to its state."""
    now = as_now(now)
    reason = clean_text(reason, label=_("撤销理由"))
    with transaction.atomic():
        survivor_pk = WorkOrder.objects.filter(pk=order.pk).values_list("merged_into_id", flat=True).first()
        pks = sorted({order.pk, *([survivor_pk] if survivor_pk else [])})
        locked = {o.pk: o for o in WorkOrder.objects.select_for_update().filter(pk__in=pks).order_by("pk")}
        order = locked[order.pk]
        actions.check(order, actor, "unmerge", now=now)
        window = timedelta(hours=settings.MERGE_UNDO_HOURS)
        if order.merged_at is None or order.merged_at + window < now:
            raise DomainError(
                _("并单已超过 %(h)s 小时，不能撤销。") % {"h": settings.MERGE_UNDO_HOURS}, code="too_late"
            )
        survivor = locked.get(order.merged_into_id) if order.merged_into_id else None
        back_to = order.merged_from_state or OrderState.DISPATCHED
        order.state, order.merged_into, order.merged_at, order.merged_from_state = back_to, None, None, ""
        order.save(update_fields=["state", "merged_into", "merged_at", "merged_from_state"])
        record(
            order,
            kind=Ev.UNMERGED,
            actor=actor,
            from_state=OrderState.MERGED,
            to_state=back_to,
            at=now,
            note=reason,
            data={"from": survivor.pk if survivor else None},
        )
        if survivor is not None:
            record(
                survivor,
                kind=Ev.MERGE_UNDONE,
                actor=actor,
                at=now,
                note=reason,
                data={"order": order.pk, "number": order.number},
            )
        actions.tell(
            "unmerge",
            order,
            to="lead_unit",
            title=_("工单 %(n)s 的并单已撤销，请继续办理") % {"n": order.number},
        )
    return order
