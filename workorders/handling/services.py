"""Writes of the handling capability that are not transitions themselves: turning a validated
action form into the transition call (one path for the page and the API), and notifications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from districts.models import Division, Section, Unit
from hotline import access, numbers
from hotline.errors import AccessDenied, DomainError
from hotline.models import User
from workorders.lifecycle import actions
from workorders.lifecycle import exclusions as exclusion_transitions
from workorders.lifecycle import handling as transitions
from workorders.models import ExclusionRequest, OrderRequest, WorkOrder


def action_form(action: str, order: WorkOrder, data=None, *, prefix: str | None = ""):
    """The form of an order-page action (its row in the action table); pages prefix field names
    with the action (several forms on one page), the API passes prefix=None."""
    form_class = actions.form_class(action)
    kwargs = {"order": order} if getattr(form_class, "needs_order", False) else {}
    return form_class(data=data, prefix=action if prefix == "" else prefix, **kwargs)


def order_perform(*, order: WorkOrder, action: str, acting_user: User, form, files=(), now: datetime | None = None):
    """Carry out a validated action form: the row's transition (one path for the page and the API)."""
    if action not in actions.ORDER_ACTIONS:
        raise DomainError(_("未知操作。"), code="unknown_action")
    return actions.perform(action, order, actor=acting_user, form=form, files=files, now=now)


# --- the unit's internal sections (二次派单), kept by its center ------------------------------------
def _require_center(user: User) -> None:
    if not access.is_unit_center(user):
        raise AccessDenied(_("只有单位的接诉即办中心（未分配科室的承办人）可以管理内设科室/社区。"))


def section_save(*, actor: User, cleaned: dict, section: Section | None = None) -> Section:
    """Add or change one of the center's own sections (name, kind, active, order)."""
    _require_center(actor)
    if section is not None and section.unit_id != actor.unit_id:
        raise AccessDenied(_("只能修改本单位的科室/社区。"))
    name = (cleaned.get("name") or "").strip()
    if not name:
        raise DomainError(_("请填写名称。"), code="required")
    with transaction.atomic():
        clash = Section.objects.filter(unit_id=actor.unit_id, name=name)
        if section is not None:
            clash = clash.exclude(pk=section.pk)
        if clash.exists():
            raise DomainError(_("本单位已有名为“%(n)s”的科室/社区。") % {"n": name}, code="duplicate")
        section = section or Section(unit_id=actor.unit_id)
        section.name, section.kind = name, cleaned.get("kind") or Section.Kind.SECTION
        section.is_active = bool(cleaned.get("is_active", True))
        section.sort = cleaned.get("sort") or 0
        section.save()
    return section


def import_communities(*, actor: User) -> int:
    """The street's communities/villages from the real division data become its community committees
    (社区居委会/村委会); those already there are kept. Returns how many were added."""
    _require_center(actor)
    unit = actor.unit
    if unit.kind != Unit.Kind.STREET or not unit.division_id:
        raise DomainError(_("只有街乡镇可以从区划数据导入社区/村。"), code="not_street")
    with transaction.atomic():
        have = set(Section.objects.filter(unit=unit, division__isnull=False).values_list("division_id", flat=True))
        names = set(Section.objects.filter(unit=unit).values_list("name", flat=True))
        new = [
            Section(unit=unit, name=d.name, kind=Section.Kind.COMMUNITY, division=d, sort=i)
            for i, d in enumerate(
                Division.objects.filter(parent_id=unit.division_id, level=Division.Level.COMMUNITY).order_by("code")
            )
            if d.pk not in have and d.name not in names
        ]
        Section.objects.bulk_create(new)
    return len(new)


def set_membership(*, actor: User, member: User, section: Section | None) -> User:
    """The center puts one of its unit's users into a section (or back into the center)."""
    _require_center(actor)
    if member.unit_id != actor.unit_id or not access.may(member, access.Cap.HANDLE):
        raise DomainError(_("只能设置本单位承办人员的科室/社区。"), code="invalid_member")
    if section is not None and (section.unit_id != actor.unit_id or not section.is_active):
        raise DomainError(_("“%(s)s”不是本单位启用的科室/社区。") % {"s": section.name}, code="invalid_section")
    if (
        member.pk == actor.pk
        and section is not None
        and not User.objects.filter(unit_id=actor.unit_id, section__isnull=True, is_active=True, role__in=[actor.role])
        .exclude(pk=actor.pk)
        .exists()
    ):
        raise DomainError(_("单位至少要保留一名中心人员。"), code="last_center")
    User.objects.filter(pk=member.pk).update(section=section)
    member.section = section
    return member


# --- actions in bulk: each item goes through its own transition (locked, checked, recorded) --------
@dataclass
class Outcome:
    label: str  # the order number (and what was decided)
    ok: bool
    message: str = ""


NOT_VISIBLE = gettext_lazy("工单不存在或无权操作")


def bulk_sign(*, actor: User, order_ids: list[int], now: datetime | None = None) -> list[Outcome]:
    """Sign several orders: each one separately; orders the user cannot see are reported, not touched."""
    visible = {o.pk: o for o in access.visible_orders(actor).filter(pk__in=order_ids).only("pk", "number")}
    out = []
    for pk in dict.fromkeys(order_ids):
        order = visible.get(pk)
        if order is None:
            out.append(Outcome(f"#{pk}", False, str(NOT_VISIBLE)))
            continue
        try:
            transitions.order_sign(order, actor=actor, now=now)
            out.append(Outcome(order.number, True))
        except DomainError as exc:
            out.append(Outcome(order.number, False, str(exc.message)))
    return out


def decide_approvals(
    *,
    actor: User,
    items: list[str],
    accept: bool,
    ruling: str,
    reroute_unit: Unit | None = None,
    now: datetime | None = None,
) -> list[Outcome]:
    """Rule on several pending requests at once: returns and extensions (`req:<id>`) and exclusions
    (`exc:<id>`). Each goes through its own transition; the report says which succeeded and why the
    others were refused. Items outside the user's scope are reported and not touched."""
    req_ids, exc_ids, bad = [], [], []
    for item in dict.fromkeys(items):
        kind, _sep, raw = str(item).partition(":")
        if (pk := numbers.parse_id(raw)) is not None and kind in ("req", "exc"):
            (req_ids if kind == "req" else exc_ids).append(pk)
        else:
            bad.append(item)
    out = [Outcome(str(item)[:30], False, str(NOT_VISIBLE)) for item in bad]
    requests = {
        r.pk: r
        for r in OrderRequest.objects.filter(
            pk__in=req_ids, order__in=access.visible_orders(actor).values("pk")
        ).select_related("order")
    }
    for pk in req_ids:
        req = requests.get(pk)
        if req is None:
            out.append(Outcome(f"#{pk}", False, str(NOT_VISIBLE)))
            continue
        label = f"{req.order.number} {req.get_kind_display()}"
        try:
            if req.state != OrderRequest.State.PENDING:
                raise DomainError(_("该申请已审批。"), code="decided")
            if req.kind == OrderRequest.Kind.RETURN:
                transitions.order_rule_return(
                    req.order, actor=actor, accept=accept, ruling=ruling, reroute_unit=reroute_unit, now=now
                )
            else:
                transitions.order_rule_extension(req.order, actor=actor, approve=accept, ruling=ruling, now=now)
            out.append(Outcome(label, True))
        except DomainError as exc:
            out.append(Outcome(label, False, str(exc.message)))
    exclusions = {
        e.pk: e for e in access.visible_exclusion_requests(actor).filter(pk__in=exc_ids).select_related("order")
    }
    for pk in exc_ids:
        exc_request = exclusions.get(pk)
        if exc_request is None:
            out.append(Outcome(f"#{pk}", False, str(NOT_VISIBLE)))
            continue
        label = f"{exc_request.order.number} {_('剔除')}"
        try:
            if exc_request.state == ExclusionRequest.State.PENDING_DISTRICT:
                exclusion_transitions.exclusion_decide_district(
                    exc_request, actor=actor, approve=accept, note=ruling, now=now
                )
            elif exc_request.state == ExclusionRequest.State.PENDING_CITY:
                exclusion_transitions.exclusion_decide_city(
                    exc_request, actor=actor, approve=accept, note=ruling, now=now
                )
            else:
                raise DomainError(_("该申请已审批。"), code="decided")
            out.append(Outcome(label, True))
        except DomainError as exc:
            out.append(Outcome(label, False, str(exc.message)))
    return out
