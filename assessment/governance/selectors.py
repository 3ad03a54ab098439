"""The orders behind a governance figure: a surge alert, a hot topic, a repeat complaint or caller, a
hot spot, a 每月一题 item, a dashboard's open/overdue load. One filtered list for all of them, so that
every number on those pages leads to the orders it counts. Scoped through hotline/access.py: the
orders are access.visible_orders(user); an alert, topic or call named in the query must itself be
visible to the user (else 404)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django import forms
from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessment import periods, rates
from assessment.models import Alert, GovernanceList, MonthlyTopic, RuleSet
from assessment.rulesets import ruleset_active
from districts.models import Division, Unit
from hotline import access
from hotline.errors import AccessDenied, DomainError
from hotline.models import Call, Category, User
from hotline.privacy import mask_phone
from workorders.models import OPEN_STATES, OrderState

# What a 每月一题 figure counts among the topic's orders (topics_progress counts the same): a
# condition on the order's handling state, or a measure of rates.py that one of the order's callback
# facts must meet (counted as the ranking counts them: scope, exclusion, counting rule).
TOPIC_MEASURES = {
    "total": (_("工单"), Q()),
    "open": (_("在办"), ~Q(state=OrderState.COMPLETED)),
    "completed": (_("已完成"), Q(state=OrderState.COMPLETED)),
    "called_back": (rates.MEASURES["valid_full"][0], "valid_full"),
    "resolved": (rates.MEASURES["resolved"][0], "resolved"),
}


def topic_fact_aliases(ruleset: RuleSet) -> dict:
    """has_<measure> → whether the order has a fact the measure takes, for the fact measures of
    TOPIC_MEASURES (to be aliased once on a queryset of orders and then read by topic_measure_q)."""
    return {
        f"has_{m}": rates.has_counted_fact(ruleset, what)
        for m, (_l, what) in TOPIC_MEASURES.items()
        if isinstance(what, str)
    }


def topic_measure_q(measure: str, ruleset: RuleSet, *, alias: str = "") -> Q:
    """Which of a topic's orders a 每月一题 figure counts (reading topic_fact_aliases when `alias`)."""
    _label, what = TOPIC_MEASURES[measure]
    if isinstance(what, Q):
        return what
    return Q(**{alias: True}) if alias else Q(rates.has_counted_fact(ruleset, what))


STATES = {
    "open": _("在办"),
    # overdue as the dashboards count it: still open and past the resolution deadline
    "overdue": _("超期"),
}


def _state_q(state: str) -> Q:
    if state == "overdue":
        return Q(state__in=OPEN_STATES, resolution_deadline__lt=timezone.now())
    return Q(state__in=OPEN_STATES)


def topic_q(topic: MonthlyTopic) -> Q:
    """A topic's orders: its category, dispatched in its month, in its district when it has one."""
    start, end = periods.bounds(topic.period, 1)
    q = Q(category_id=topic.category_id, dispatched_at__gte=start, dispatched_at__lt=end)
    return q & Q(district_id=topic.district_id) if topic.district_id else q


def surge_window() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "SURGE_WINDOW_MINUTES", 60)))


def _id():
    # ids are 64-bit: a larger number must be a 400, not a database overflow
    return forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)


def _moment():
    return forms.DateTimeField(required=False)


class BehindForm(forms.Form):
    """What the list is filtered by. Every field is optional; they combine with AND."""

    alert = _id()
    topic = _id()
    measure = forms.ChoiceField(required=False, choices=[(k, v[0]) for k, v in TOPIC_MEASURES.items()])
    caller = _id()
    category = _id()
    street = _id()
    community = _id()
    district = _id()
    unit = _id()
    state = forms.ChoiceField(required=False, choices=list(STATES.items()))
    # local date or date and time; `since` inclusive, `until` exclusive
    since = _moment()
    until = _moment()
    dispatched_since = _moment()

    def clean(self):
        data = super().clean()
        for name in ("since", "until", "dispatched_since"):
            moment = data.get(name)
            if moment is not None and not 1900 <= moment.year <= 9000:
                self.add_error(name, _("日期超出范围。"))
        return data


@dataclass
class Behind:
    orders: QuerySet
    criteria: list[tuple[str, str]] = field(default_factory=list)  # (label, value) the page shows


def _name(model, pk: int) -> str:
    # A name for the criteria line only; the rows are scoped by visible_orders whatever it names.
    obj = model.objects.filter(pk=pk).only("name").first()
    if obj is None:
        raise Http404
    return obj.name


def orders_behind(user: User, data) -> Behind:
    """The visible orders matching the query `data` (a QueryDict or dict). DomainError for input
    that is not well formed; Http404 for an alert, topic or call the user may not see."""

    form = BehindForm(data)
    if not form.is_valid():
        field_name, errors = next(iter(form.errors.items()))
        raise DomainError(_("筛选条件无效：%(field)s %(error)s") % {"field": field_name, "error": errors[0]})
    f = form.cleaned_data
    qs = access.visible_orders(user)
    criteria: list[tuple[str, str]] = []

    if f["alert"]:
        alert = access.visible_alerts(user, Alert.objects.select_related("category", "street", "community"))
        alert = alert.filter(pk=f["alert"]).first()
        if alert is None:
            raise Http404
        # The calls the surge counted: the cluster's, received in the detection window up to raising.
        place = Q(call__community_id=alert.community_id) if alert.community_id else Q()
        qs = qs.filter(
            place,
            call__category_id=alert.category_id,
            call__street_id=alert.street_id,
            call__received_at__gt=alert.window_end - surge_window(),
            call__received_at__lte=alert.window_end,
        )
        where = alert.street.name + (f" · {alert.community.name}" if alert.community_id else "")
        raised = timezone.localtime(alert.raised_at)
        criteria.append((_("爆单预警"), f"{where} “{alert.category.name}” {raised:%m-%d %H:%M}"))

    if f["topic"]:
        topic = access.visible_topics(user, MonthlyTopic.objects.select_related("category")).filter(pk=f["topic"])
        topic = topic.first()
        if topic is None:
            raise Http404
        measure = f["measure"] or "total"
        qs = qs.filter(topic_q(topic) & topic_measure_q(measure, ruleset_active()))
        criteria.append((_("每月一题"), f"{topic.period} {topic.title}"))
        criteria.append((_("口径"), str(TOPIC_MEASURES[measure][0])))

    if f["caller"]:
        call = access.visible_calls(user).filter(pk=f["caller"]).only("caller_phone").first()
        if call is None or not call.caller_phone:
            raise Http404
        qs = qs.filter(call__caller_phone=call.caller_phone)
        phone = call.caller_phone if access.sees_phone_in_full(user) else mask_phone(call.caller_phone)
        criteria.append((_("来电号码"), phone))

    if f["category"]:
        criteria.append((_("诉求分类"), Category.objects.filter(pk=f["category"]).first() or "—"))
        qs = qs.filter(category_id=f["category"])
    for key, label, column in (
        ("district", _("区"), "district_id"),
        ("street", _("街乡镇"), "street_id"),
        ("community", _("社区/村"), "community_id"),
    ):
        if f[key]:
            criteria.append((label, _name(Division, f[key])))
            qs = qs.filter(**{column: f[key]})
    if f["unit"]:
        criteria.append((_("承办单位"), _name(Unit, f["unit"])))
        qs = qs.filter(lead_unit_id=f["unit"])
    if f["state"]:
        criteria.append((_("状态"), str(STATES[f["state"]])))
        qs = qs.filter(_state_q(f["state"]))
    # Dates are of the call (when the citizen called), as hot topics and hot spots count them.
    if f["since"]:
        criteria.append((_("来电自"), f"{timezone.localtime(f['since']):%Y-%m-%d %H:%M}"))
        qs = qs.filter(call__received_at__gte=f["since"])
    if f["until"]:
        criteria.append((_("来电至（不含）"), f"{timezone.localtime(f['until']):%Y-%m-%d %H:%M}"))
        qs = qs.filter(call__received_at__lt=f["until"])
    if f["dispatched_since"]:
        criteria.append((_("派单自"), f"{timezone.localtime(f['dispatched_since']):%Y-%m-%d %H:%M}"))
        qs = qs.filter(dispatched_at__gte=f["dispatched_since"])
    if not criteria:
        raise DomainError(_("请指定要查看的工单范围。"), code="no_criteria")
    orders = qs.select_related("category", "street", "lead_unit").order_by("-dispatched_at", "-id")
    return Behind(orders=orders, criteria=[(str(k), str(v)) for k, v in criteria])


# --- The governance page's stored lists ------------------------------------------------------------
CITY_SCOPE = "city"  # the scope key of the city's lists (services.governance_lists_refresh)
STALE_AFTER = timedelta(minutes=30)


def stored_lists(user: User) -> dict[str, tuple[list[dict], datetime]]:
    """The stored lists (kind → (rows, computed at)) of the user's scope — the city's for the city, the
    district's for its manager — revived for this viewer: category names in the viewer's language,
    the repeat caller's phone from their call, masked unless the viewer sees phones in full. Kinds
    not stored yet are missing (the page then computes them live)."""
    try:
        district = access.supervised_district(user)
    except AccessDenied:
        return {}  # e.g. a district account without a district: no stored scope (the live lists are empty)
    key = CITY_SCOPE if district is None else district.code
    stored = {g.kind: g for g in GovernanceList.objects.filter(scope_key=key)}
    out = {}
    for kind, item in stored.items():
        rows = [{**r, "since": datetime.fromisoformat(r["since"])} for r in item.rows]
        if kind == "hot_topics":
            names = Category.objects.in_bulk({r["category_id"] for r in rows})
            for r in rows:
                category = names.get(r["category_id"])
                r["category"] = category.display_name if category else ""
        elif kind == "repeat_callers":
            phones = dict(Call.objects.filter(pk__in=[r["call_id"] for r in rows]).values_list("pk", "caller_phone"))
            full = access.sees_phone_in_full(user)
            for r in rows:
                phone = phones.get(r["call_id"], "")
                r["phone"] = phone if full else mask_phone(phone)
        out[kind] = (rows, item.computed_at)
    return out
