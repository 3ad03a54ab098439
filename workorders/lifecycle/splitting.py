"""拆单: a call with several problems becomes several orders, one per problem and unit.

The hotline (agents, the city center) splits an open order's call from the order page; the intake
may call `order_split` for a new call too. Each part is a child order with its own category, tier
(deadlines), lead unit and callback (its own round and assessment fact). WorkOrder.call is one call
per order, so each child gets a call of its own: the caller's details copied from the parent call
(confidentiality included), the part's description, and `parent_call` pointing at the call it came
from. The orders of one parent call list each other on their pages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from districts.models import Unit
from hotline.errors import DomainError
from hotline.models import Call, Category, User
from workorders.lifecycle import actions
from workorders.lifecycle.creation import order_create
from workorders.lifecycle.machinery import Ev, as_now, clean_text, lock, record, require_routable
from workorders.models import UrgencyTier, WorkOrder


@dataclass(frozen=True)
class Part:
    """One problem of the call: what it is, how urgent, and which unit leads it."""

    category: Category
    tier: UrgencyTier
    lead_unit: Unit
    description: str


def order_split(
    order: WorkOrder, *, actor: User, parts: Iterable[Part], now: datetime | None = None
) -> list[WorkOrder]:
    """Split problems off `order`'s call into child orders (one per part). Returns the children."""
    now = as_now(now)
    parts = list(parts)
    if not parts:
        raise DomainError(_("请至少填写一个拆出的诉求。"), code="required")
    with transaction.atomic():
        order = lock(order)
        actions.check(order, actor, "split", now=now)
        parent = Call.objects.get(pk=order.parent_call_id or order.call_id)
        children = []
        for part in parts:
            description = clean_text(part.description, label=_("拆出的诉求内容"))
            require_routable(order, part.lead_unit)
            if part.category.level != 3 or not part.category.is_active:
                raise DomainError(_("请选择一个启用的三级分类。"), code="invalid_category")
            call = Call.objects.create(
                caller_phone=parent.caller_phone,
                caller_name=parent.caller_name,
                channel=parent.channel,
                request_type=parent.request_type,
                category=part.category,
                tier=part.tier,
                address=parent.address,
                description=description,
                outcome=Call.Outcome.ORDER,
                community=parent.community,
                district=parent.district,
                street=parent.street,
                agent=actor,
                received_at=parent.received_at,
                confidential=parent.confidential,
            )
            child = order_create(
                call=call,
                category=part.category,
                tier=part.tier,
                lead_unit=part.lead_unit,
                actor=actor,
                title=f"{part.category.name}：{description[:60]}",
                street=order.street if part.lead_unit.district_id == order.district_id else None,
                community=order.community if part.lead_unit.district_id == order.district_id else None,
                now=now,
                new_call=True,
            )
            WorkOrder.objects.filter(pk=child.pk).update(parent_call=parent)
            child.parent_call = parent
            children.append(child)
        record(
            order,
            kind=Ev.SPLIT,
            actor=actor,
            at=now,
            data={"children": [c.pk for c in children], "numbers": [c.number for c in children]},
            note="、".join(c.number for c in children),
        )
    return children


def order_split_one(
    order: WorkOrder,
    *,
    actor: User,
    category: Category,
    tier: UrgencyTier,
    lead_unit: Unit,
    description: str,
    now: datetime | None = None,
) -> list[WorkOrder]:
    """The order page's form: one part at a time."""
    return order_split(order, actor=actor, parts=[Part(category, tier, lead_unit, description)], now=now)
