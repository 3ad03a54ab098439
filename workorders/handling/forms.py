"""Input forms for the order actions. The same forms validate the page's POSTs and the API's: the
shape of the input is checked here, the business rules in `workorders.transitions`."""

from __future__ import annotations

import re

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from districts.communities import communities_of
from districts.models import Division, Section, Unit
from hotline import access, numbers, refcache
from hotline.models import Call, Category, User
from workorders.lifecycle.handling import end_of_day
from workorders.lifecycle.machinery import ContactMethod, routable_units
from workorders.models import OrderRequest, Result, UrgencyTier, Whistle, WorkOrder

DECISIONS = [("accept", _("同意")), ("reject", _("驳回"))]


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class DateInput(forms.DateInput):
    input_type = "date"


class ISODateTimeField(forms.DateTimeField):
    def to_python(self, value):
        if isinstance(value, str):
            parsed = parse_datetime(value.strip())
            if parsed is not None:
                return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)
        return super().to_python(value)


def dt_field(label, **kw):
    return ISODateTimeField(label=label, widget=LocalDateTimeInput(), **kw)


def department_units(order=None):
    qs = Unit.objects.filter(is_active=True, kind=Unit.Kind.DEPARTMENT)
    if order is not None and order.district_id:
        qs = qs.filter(Q(district_id=order.district_id) | Q(district__isnull=True))
    return qs.order_by("-district_id", "code")


class ActionForm(forms.Form):
    """The input of one action of the action table (workorders/lifecycle/actions.py): its fields are
    the transition's keyword arguments, unless transition_kwargs() says otherwise."""

    needs_order = False  # the form's choices depend on the order (it is built with order=)

    def transition_kwargs(self, files=()) -> dict:
        return dict(self.cleaned_data)


class DecisionForm(ActionForm):
    """A ruling: the transition takes a yes/no (named `accept` or `approve`)."""

    decision_kwarg = "accept"

    def transition_kwargs(self, files=()) -> dict:
        data = dict(self.cleaned_data)
        data[self.decision_kwarg] = data.pop("decision") == "accept"
        return data


class SignForm(ActionForm):
    pass


class RespondForm(ActionForm):
    contacted_at = dt_field(_("联系时间"))
    method = forms.ChoiceField(label=_("联系方式"), choices=ContactMethod.CHOICES)
    summary = forms.CharField(label=_("沟通内容"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # most contacts are recorded right after the call: now, to the minute, as the field shows it
        self.fields["contacted_at"].initial = timezone.localtime().replace(second=0, microsecond=0)


class NoteForm(ActionForm):
    note = forms.CharField(label=_("办理记录"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)

    def transition_kwargs(self, files=()) -> dict:
        return {**self.cleaned_data, "files": files}


class CoForm(ActionForm):
    needs_order = True

    units = forms.ModelMultipleChoiceField(label=_("协办单位"), queryset=Unit.objects.none())

    def __init__(self, *args, order=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["units"].queryset = routable_units(order).exclude(kind=Unit.Kind.DISTRICT)


class WhistleForm(ActionForm):
    needs_order = True

    to_unit = forms.ModelChoiceField(label=_("报到部门"), queryset=Unit.objects.none())
    level = forms.ChoiceField(label=_("吹哨级别"), choices=Whistle.Level.choices)
    reason = forms.CharField(label=_("吹哨事由"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    report_by = dt_field(_("报到时限"))

    def __init__(self, *args, order=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_unit"].queryset = department_units(order)


class ReportForm(ActionForm):
    whistle = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("报到及处置情况"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class ReturnForm(ActionForm):
    reason_code = forms.ChoiceField(label=_("退单原因"), choices=OrderRequest.ReturnReason.choices)
    reason = forms.CharField(label=_("退单理由"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class ReturnRulingForm(DecisionForm):
    needs_order = True

    decision = forms.ChoiceField(label=_("审批结果"), choices=DECISIONS, widget=forms.RadioSelect)
    reroute_unit = forms.ModelChoiceField(label=_("改派单位"), queryset=Unit.objects.none(), required=False)
    ruling = forms.CharField(
        label=_("审批意见"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        required=False,
        help_text=_("驳回时必填"),
    )

    def __init__(self, *args, order=None, **kwargs):
        super().__init__(*args, **kwargs)
        qs = routable_units(order)
        if order is not None:
            qs = qs.exclude(pk=order.lead_unit_id)
        self.fields["reroute_unit"].queryset = qs


class ExtensionForm(ActionForm):
    new_date = forms.DateField(label=_("延期至"), widget=DateInput())
    reason = forms.CharField(label=_("延期理由"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def transition_kwargs(self, files=()) -> dict:
        return {"new_deadline": end_of_day(self.cleaned_data["new_date"]), "reason": self.cleaned_data["reason"]}


class ExtensionRulingForm(DecisionForm):
    decision_kwarg = "approve"

    decision = forms.ChoiceField(label=_("审批结果"), choices=DECISIONS, widget=forms.RadioSelect)
    ruling = forms.CharField(
        label=_("审批意见"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        required=False,
        help_text=_("驳回时必填"),
    )


class ParkForm(ActionForm):
    until = forms.DateField(label=_("计划完成日期"), widget=DateInput())
    reason = forms.CharField(label=_("挂账理由"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class ClearForm(ActionForm):
    note = forms.CharField(label=_("销账说明"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class CloseForm(ActionForm):
    result = forms.ChoiceField(label=_("办理结果"), choices=Result.choices)
    result_note = forms.CharField(label=_("答复市民的说明"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    action_taken = forms.CharField(label=_("办理情况"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class WhistleConfirmFields(ActionForm):
    needs_order = True

    """Closing while a whistled department has not reported: an explicit confirmation and a reason
    (offered only then; the transition refuses without them)."""

    confirm_open_whistles = forms.BooleanField(label=_("吹哨部门尚未报到，仍确认办结"), required=False)
    whistle_reason = forms.CharField(
        label=_("未报到仍办结的理由"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False
    )

    def __init__(self, *args, order=None, **kwargs):
        super().__init__(*args, **kwargs)
        if order is not None and not Whistle.objects.filter(order=order, state=Whistle.State.OPEN).exists():
            for name in ("confirm_open_whistles", "whistle_reason"):
                self.fields[name].widget = forms.HiddenInput()


class CloseWithWhistleForm(WhistleConfirmFields, CloseForm):
    field_order = ["result", "result_note", "action_taken", "confirm_open_whistles", "whistle_reason"]


# --- dispatch inside the unit (二次派单) -----------------------------------------------------------
class AssignForm(ActionForm):
    needs_order = True

    section = forms.ModelChoiceField(label=_("科室/社区"), queryset=Section.objects.none(), required=False)
    assignee = forms.ModelChoiceField(label=_("承办人"), queryset=User.objects.none(), required=False)
    due_at = dt_field(_("内部办理时限（可选）"), required=False)
    note = forms.CharField(
        label=_("派发说明"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False
    )

    def __init__(self, *args, order=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The choices offered are the unit's; anything else posted is refused by the transition with
        # a clear message (so the lookups are over all rows, not only the offered ones).
        unit_id = getattr(order, "lead_unit_id", None)
        self.fields["section"].queryset = Section.objects.all()
        self.fields["assignee"].queryset = User.objects.all()
        self.fields["section"].choices = [("", "—")] + [
            (sec.pk, f"{sec.name}（{sec.get_kind_display()}）")
            for sec in Section.objects.filter(unit_id=unit_id, is_active=True).order_by("kind", "sort", "name")
        ]
        members = User.objects.filter(unit_id=unit_id, is_active=True, section__isnull=False).select_related("section")
        self.fields["assignee"].choices = [("", "—")] + [
            (u.pk, f"{u.display_name}（{u.section.name}）") for u in members.order_by("section__name", "username")
        ]


class TakeBackForm(ActionForm):
    reason = forms.CharField(label=_("收回理由"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class ProposeCloseForm(CloseForm):
    pass


class ReviewProposalForm(WhistleConfirmFields, DecisionForm):
    field_order = ["decision", "reason", "confirm_open_whistles", "whistle_reason"]
    decision = forms.ChoiceField(
        label=_("审核结果"), choices=[("accept", _("同意办结")), ("send_back", _("退回"))], widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=_("退回理由"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False
    )


class SectionForm(forms.ModelForm):
    class Meta:
        model = Section
        fields = ["name", "kind", "is_active", "sort"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sort"].required = False


# --- inbox filters ------------------------------------------------------------------------------
def _streets_by_district() -> dict:
    """District division id → its streets/townships in code order, from the per-process cache."""
    out: dict = {}
    rows = sorted(refcache.places.get()["by_id"].values(), key=lambda d: d.code)
    for d in rows:
        if d.level == Division.Level.STREET and d.district_id is not None:
            out.setdefault(d.district_id, []).append(d)
    return out


def _place_choice(label, choices) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label, required=False, coerce=int, empty_value=None, choices=[("", _("全部")), *choices]
    )


class InboxFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        if cleaned.get("owner") == "me":
            cleaned["owner"], cleaned["assignee"] = "", self.user.pk
        return cleaned

    SORTS = [
        ("deadline", _("时限由近到远")),
        ("-deadline", _("时限由远到近")),
        ("-dispatched", _("最新派单")),
    ]
    category = numbers.IdChoiceField(label=_("分类"), queryset=Category.objects.all(), required=False)
    # Place filters: which of them is a list, and of what, depends on the user's unit (see __init__);
    # otherwise the id can still be passed in the URL.
    street = numbers.IdField(label=_("街乡镇"), required=False, widget=forms.HiddenInput)
    community = numbers.IdField(label=_("社区/村"), required=False, widget=forms.HiddenInput)
    request_type = forms.ChoiceField(label=_("诉求类型"), required=False)
    tier = numbers.IdChoiceField(label=_("时限档"), queryset=UrgencyTier.objects.all(), required=False)
    date_from = forms.DateField(label=_("派单日期从"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("至"), required=False, widget=DateInput())
    q = forms.CharField(label=_("工单号/标题"), required=False, max_length=50)
    sort = forms.ChoiceField(label=_("排序"), choices=SORTS, required=False)

    def __init__(self, *args, user=None, **kwargs):

        super().__init__(*args, **kwargs)
        unit = getattr(user, "unit", None)
        streets = _streets_by_district()
        if unit is not None and unit.kind == Unit.Kind.STREET and unit.division_id:
            # A street picks one of its own communities.
            self.fields["community"] = _place_choice(
                _("社区/村"), [(c.pk, c.name) for c in communities_of(unit.division_id)]
            )
        elif (district := access.district_of(user)) is not None:
            # A district (its manager or one of its departments): its streets, and their
            # communities grouped by street.
            own = streets.get(district.pk, [])
            self.fields["street"] = _place_choice(_("街乡镇"), [(d.pk, d.name) for d in own])
            self.fields["community"] = _place_choice(
                _("社区/村"), [(d.name, [(c.pk, c.name) for c in communities_of(d.pk)]) for d in own]
            )
        else:
            # The city, the hall and city departments: every street, grouped by district.
            places = refcache.places.get()["by_id"]
            self.fields["street"] = _place_choice(
                _("街乡镇"),
                [
                    (places[district_id].name, [(d.pk, d.name) for d in in_district])
                    for district_id, in_district in streets.items()
                    if district_id in places
                ],
            )
        self.user = user
        if access.is_unit_center(user):
            sections = Section.objects.filter(unit_id=user.unit_id, is_active=True).order_by("kind", "sort", "name")
            self.fields["owner"] = forms.ChoiceField(
                label=_("内部承办"),
                required=False,
                choices=[("", _("全部")), ("none", _("未派发")), *[(str(sec.pk), sec.name) for sec in sections]],
            )
        elif access.section_of(user) is not None:
            self.fields["owner"] = forms.ChoiceField(
                label=_("范围"), required=False, choices=[("", _("本科室/社区")), ("me", _("我的工单"))]
            )
        self.fields["request_type"].choices = [("", _("全部")), *Call.RequestType.choices]
        # The first two levels: choosing one includes everything under it (a short list to render).
        self.fields["category"].queryset = Category.objects.filter(is_active=True, level__lte=2)


# --- 并单 / 拆单 / 保密 (workorders/lifecycle/merging.py, splitting.py, confidentiality.py) ----------
ORDER_NUMBER_SPLIT = re.compile(r"[\s,，、;；]+")


class MergeForm(ActionForm):
    """The surviving order is the page's; the orders merged into it are given by number."""

    orders = forms.CharField(
        label=_("并入本单的工单编号（多个用逗号或空格分隔）"), max_length=1000, widget=forms.TextInput()
    )
    reason = forms.CharField(label=_("并单理由"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def clean_orders(self):
        raw = [n for n in ORDER_NUMBER_SPLIT.split(self.cleaned_data["orders"]) if n]
        if not raw or len(raw) > 50:
            raise forms.ValidationError(_("请填写 1 至 50 个工单编号。"))
        if not all(numbers.ascii_digits(n) for n in raw):
            raise forms.ValidationError(_("工单编号只含数字。"))
        found = dict(WorkOrder.objects.filter(number__in=raw).values_list("number", "pk"))
        missing = [n for n in raw if n not in found]
        if missing:
            # the same words as for an order the user may not see: a number never tells more
            raise forms.ValidationError(_("工单 %(n)s 不存在或您无权查看。") % {"n": "、".join(missing)})
        return [found[n] for n in raw]

    def transition_kwargs(self, files=()) -> dict:
        return {"others": self.cleaned_data["orders"], "reason": self.cleaned_data["reason"]}


class UnmergeForm(ActionForm):
    reason = forms.CharField(label=_("撤销理由"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class SplitForm(ActionForm):
    """One more problem of the caller's call, for its own unit: a child order with its own clock."""

    needs_order = True

    description = forms.CharField(label=_("拆出的诉求内容"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    category = forms.ModelChoiceField(label=_("诉求分类"), queryset=Category.objects.none())
    tier = forms.ModelChoiceField(label=_("时限档"), queryset=UrgencyTier.objects.none())
    lead_unit = forms.ModelChoiceField(label=_("主办单位"), queryset=Unit.objects.none())

    def __init__(self, *args, order=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(level=3, is_active=True).order_by("sort", "code")
        self.fields["tier"].queryset = UrgencyTier.objects.order_by("sort")
        self.fields["lead_unit"].queryset = routable_units(order)


class ConfidentialForm(ActionForm):
    confidential = forms.BooleanField(label=_("保密（对承办单位隐去来电人姓名、电话、地址）"), required=False)
    reason = forms.CharField(label=_("说明"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def __init__(self, *args, order=None, **kwargs):
        super().__init__(*args, **kwargs)
        if order is not None:
            self.fields["confidential"].initial = not order.call.confidential

    needs_order = True
