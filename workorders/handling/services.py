"""Writes of the handling capability that are not transitions themselves: turning a validated
action form into the transition call (one path for the page and the API), and notifications."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hotline.errors import DomainError
from hotline.models import User
from workorders.handling import forms
from workorders.lifecycle import handling as transitions
from workorders.models import Whistle, WorkOrder

# action name → (label, form class)
ACTIONS = {
    "sign": (gettext_lazy("签收"), forms.SignForm),
    "respond": (gettext_lazy("联系市民（响应）"), forms.RespondForm),
    "note": (gettext_lazy("添加办理记录"), forms.NoteForm),
    "co": (gettext_lazy("增加协办单位"), forms.CoForm),
    "whistle": (gettext_lazy("吹哨"), forms.WhistleForm),
    "report": (gettext_lazy("报到"), forms.ReportForm),
    "return": (gettext_lazy("申请退单"), forms.ReturnForm),
    "rule_return": (gettext_lazy("审批退单"), forms.ReturnRulingForm),
    "extend": (gettext_lazy("申请延期"), forms.ExtensionForm),
    "rule_extension": (gettext_lazy("审批延期"), forms.ExtensionRulingForm),
    "park": (gettext_lazy("挂账"), forms.ParkForm),
    "clear": (gettext_lazy("销账"), forms.ClearForm),
    "close": (gettext_lazy("办结"), forms.CloseForm),
}
ORDER_FORMS = {"co", "whistle", "rule_return"}


def action_form(action: str, order: WorkOrder, data=None, *, prefix: str | None = ""):
    """The form for an action; pages prefix field names with the action (several forms on one
    page), the API passes prefix=None."""
    form_class = ACTIONS[action][1]
    kwargs = {"order": order} if action in ORDER_FORMS else {}
    return form_class(data=data, prefix=action if prefix == "" else prefix, **kwargs)


def order_perform(
    *, order: WorkOrder, action: str, acting_user: User, cleaned: dict, files=(), now: datetime | None = None
):
    """Call the transition for a validated action form."""
    c = cleaned
    if action == "sign":
        return transitions.order_sign(order, actor=acting_user, now=now)
    if action == "respond":
        return transitions.order_respond(
            order, actor=acting_user, contacted_at=c["contacted_at"], method=c["method"], summary=c["summary"], now=now
        )
    if action == "note":
        return transitions.order_add_note(order, actor=acting_user, note=c["note"], files=files, now=now)
    if action == "co":
        return transitions.order_add_co_units(order, actor=acting_user, units=c["units"], now=now)
    if action == "whistle":
        return transitions.order_whistle(
            order,
            actor=acting_user,
            to_unit=c["to_unit"],
            level=c["level"],
            reason=c["reason"],
            report_by=c["report_by"],
            now=now,
        )
    if action == "report":
        whistle = Whistle.objects.filter(order=order, pk=c["whistle"]).first()
        if whistle is None:
            raise DomainError(_("吹哨记录不存在。"), code="not_found")
        return transitions.whistle_report(whistle, actor=acting_user, note=c["note"], now=now)
    if action == "return":
        return transitions.order_request_return(
            order, actor=acting_user, reason_code=c["reason_code"], reason=c["reason"], now=now
        )
    if action == "rule_return":
        return transitions.order_rule_return(
            order,
            actor=acting_user,
            accept=c["decision"] == "accept",
            ruling=c["ruling"],
            reroute_unit=c.get("reroute_unit"),
            now=now,
        )
    if action == "extend":
        return transitions.order_request_extension(
            order, actor=acting_user, new_deadline=transitions.end_of_day(c["new_date"]), reason=c["reason"], now=now
        )
    if action == "rule_extension":
        return transitions.order_rule_extension(
            order, actor=acting_user, approve=c["decision"] == "accept", ruling=c["ruling"], now=now
        )
    if action == "park":
        return transitions.order_park(order, actor=acting_user, until=c["until"], reason=c["reason"], now=now)
    if action == "clear":
        return transitions.order_clear_parking(order, actor=acting_user, note=c["note"], now=now)
    if action == "close":
        return transitions.order_close(
            order,
            actor=acting_user,
            result=c["result"],
            result_note=c["result_note"],
            action_taken=c["action_taken"],
            now=now,
        )
    raise DomainError(_("未知操作。"), code="unknown_action")
