"""Forms of the callback pages. They only parse input; the rules live in workorders.callbacks."""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from districts.models import Unit
from workorders.lifecycle.callbacks import Answers
from workorders.lifecycle.machinery import routable_units
from workorders.models import CallbackAttempt, ExclusionRequest, Result, Satisfaction, WorkOrder

YES_NO = [("yes", _("是")), ("no", _("否"))]
# Worded as the citizen is asked (the order's own labels read "已解决" …).
SOLVED = [(Result.RESOLVED, _("解决")), (Result.PARTLY, _("部分解决")), (Result.UNRESOLVED, _("未解决"))]


class AnswersForm(forms.Form):
    contacted = forms.ChoiceField(label=_("承办单位是否联系过您"), choices=YES_NO, widget=forms.RadioSelect)
    solved = forms.ChoiceField(label=_("您反映的问题是否解决"), choices=SOLVED, widget=forms.RadioSelect)
    satisfaction = forms.ChoiceField(
        label=_("您对办理结果是否满意"), choices=Satisfaction.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("意见和建议"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def answers(self) -> Answers:
        d = self.cleaned_data
        return Answers(
            contacted=d["contacted"] == "yes", solved=d["solved"], satisfaction=d["satisfaction"], comment=d["comment"]
        )


class CallbackRecordForm(AnswersForm):
    round = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    redispatch_unit = forms.ModelChoiceField(
        label=_("再派件承办单位"),
        queryset=Unit.objects.none(),
        required=False,
        help_text=_("不满意或未完全解决时，工单以新一轮派往此单位（默认原承办单位）。"),
    )

    def __init__(self, *args, order: WorkOrder, **kwargs):
        super().__init__(*args, **kwargs)
        units = routable_units(order)
        if order.lead_unit_id and not units.filter(pk=order.lead_unit_id).exists():
            units = Unit.objects.filter(Q(pk__in=units.values("pk")) | Q(pk=order.lead_unit_id)).order_by(
                "kind", "code"
            )
        self.fields["redispatch_unit"].queryset = units
        self.fields["redispatch_unit"].initial = order.lead_unit_id
        self.fields["round"].initial = order.round


class AttemptForm(forms.Form):
    result = forms.ChoiceField(
        label=_("未接通原因"),
        choices=[(v, label) for v, label in CallbackAttempt.Result.choices if v != CallbackAttempt.Result.REACHED],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=_("备注"), required=False, max_length=300)


class SendBackForm(forms.Form):
    reason = forms.CharField(label=_("退回理由"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data]
        return [super().clean(data, initial)] if data else []


class ExclusionRequestForm(forms.Form):
    order = forms.CharField(label=_("工单编号"), max_length=20)
    reason = forms.ChoiceField(label=_("剔除原因"), choices=ExclusionRequest.Reason.choices)
    explanation = forms.CharField(label=_("申请说明"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))
    evidence = MultipleFileField(
        label=_("证据材料"),
        required=False,
        help_text=_("jpg、png、gif、webp、pdf、docx、xlsx，单个文件不超过 10 MB，最多 10 个。"),
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("同意")), ("reject", _("驳回"))])
    note = forms.CharField(
        label=_("审核意见"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class RevokeForm(forms.Form):
    note = forms.CharField(label=_("撤销理由"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
