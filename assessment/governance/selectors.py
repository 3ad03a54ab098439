"""What lies behind a governance figure. Figures that count calls (a surge alert, a hot topic, a hot
spot, a repeat caller) are defined here as sets of calls, counted by services and listed by
calls_behind — repeats linked to an existing order and calls answered on the spot included, each
listed call leading to its order. Figures that count orders (a repeat complaint's like, a 每月一题
item, a dashboard's open/overdue load) lead to orders_behind. Scoped through hotline/access.py
(visible_calls, visible_orders); an alert, topic or call named in the query must itself be visible
to the user (else 404)."""

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
from workorders.models import OPEN_STATES, OrderEvent, OrderState, WorkOrder

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
    return timedelta(minutes=settings.SURGE_WINDOW_MINUTES)


# --- The calls a governance figure counts ----------------------------------------------------------
# Surges, hot topics, hot spots and repeat callers count calls — repeats linked to an existing order
# and calls answered on the spot included — so their figures and the lists behind them are defined
# once, here, as sets of calls (services count them, calls_behind lists them).
def surge_calls(*, now: datetime, window: timedelta) -> QuerySet[Call]:
    """The calls a surge detection at `now` groups into clusters (category × street × community)."""
    return Call.objects.filter(
        received_at__gt=now - window, received_at__lte=now, category__isnull=False, street__isnull=False
    )


def alert_calls(alert: Alert) -> QuerySet[Call]:
    """The calls a surge alert counted: its cluster's calls in the window that ended when it was raised
    (a street-level cluster holds only the calls without a community, as the grouping made it)."""
    return surge_calls(now=alert.window_end, window=surge_window()).filter(
        category_id=alert.category_id, street_id=alert.street_id, community_id=alert.community_id
    )


def placed_calls(user: User, *, since: datetime, until: datetime) -> QuerySet[Call]:
    """The calls of a hot topic's, hot spot's or repeat caller's window as the user may see them
    (`since` inclusive, `until` exclusive)."""
    return access.visible_calls(user).filter(received_at__gte=since, received_at__lt=until)


def _id():
    # ids are 64-bit: a larger number must be a 400, not a database overflow
    return forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)


def _moment():
    return forms.DateTimeField(required=False)


class _MomentsInRange(forms.Form):
    def clean(self):
        data = super().clean()
        for name in ("since", "until", "dispatched_since"):
            moment = data.get(name)
            if moment is not None and not 1900 <= moment.year <= 9000:
                self.add_error(name, _("日期超出范围。"))
        return data


class BehindForm(_MomentsInRange):
    """What the list is filtered by. Every field is optional; they combine with AND. (A surge alert
    counts calls: its figure leads to calls_behind.)"""

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


def _cleaned(form_class: type[forms.Form], data) -> dict:
    form = form_class(data)
    if not form.is_valid():
        field_name, errors = next(iter(form.errors.items()))
        raise DomainError(_("筛选条件无效：%(field)s %(error)s") % {"field": field_name, "error": errors[0]})
    return form.cleaned_data


def _shared_filters(user: User, f: dict, qs: QuerySet, criteria: list, *, call: str) -> QuerySet:
    """The filters lists of orders and of calls share — caller, category, places, call dates — on
    the rows' own category and place columns; `call` is the path to the call ("" for calls)."""
    if f.get("caller"):
        found = access.visible_calls(user).filter(pk=f["caller"]).only("caller_phone").first()
        if found is None or not found.caller_phone:
            raise Http404
        qs = qs.filter(**{f"{call}caller_phone": found.caller_phone})
        phone = found.caller_phone if access.sees_phone_in_full(user) else mask_phone(found.caller_phone)
        criteria.append((_("来电号码"), phone))
    if f.get("category"):
        criteria.append((_("诉求分类"), Category.objects.filter(pk=f["category"]).first() or "—"))
        qs = qs.filter(category_id=f["category"])
    for key, label in (("district", _("区")), ("street", _("街乡镇")), ("community", _("社区/村"))):
        if f.get(key):
            criteria.append((label, _name(Division, f[key])))
            qs = qs.filter(**{f"{key}_id": f[key]})
    if f.get("since"):
        criteria.append((_("来电自"), f"{timezone.localtime(f['since']):%Y-%m-%d %H:%M}"))
        qs = qs.filter(**{f"{call}received_at__gte": f["since"]})
    if f.get("until"):
        criteria.append((_("来电至（不含）"), f"{timezone.localtime(f['until']):%Y-%m-%d %H:%M}"))
        qs = qs.filter(**{f"{call}received_at__lt": f["until"]})
    return qs


def orders_behind(user: User, data) -> Behind:
    """The visible orders matching the query `data` (a QueryDict or dict). DomainError for input
    that is not well formed; Http404 for an alert, topic or call the user may not see."""

    f = _cleaned(BehindForm, data)
    qs = access.visible_orders(user)
    criteria: list[tuple[str, str]] = []

    if f["topic"]:
        topic = access.visible_topics(user, MonthlyTopic.objects.select_related("category")).filter(pk=f["topic"])
        topic = topic.first()
        if topic is None:
            raise Http404
        measure = f["measure"] or "total"
        qs = qs.filter(topic_q(topic) & topic_measure_q(measure, ruleset_active()))
        criteria.append((_("每月一题"), f"{topic.period} {topic.title}"))
        criteria.append((_("口径"), str(TOPIC_MEASURES[measure][0])))

    # Dates are of the call (when the citizen called), as hot topics and hot spots count them.
    qs = _shared_filters(user, f, qs, criteria, call="call__")
    if f["unit"]:
        criteria.append((_("承办单位"), _name(Unit, f["unit"])))
        qs = qs.filter(lead_unit_id=f["unit"])
    if f["state"]:
        criteria.append((_("状态"), str(STATES[f["state"]])))
        qs = qs.filter(_state_q(f["state"]))
    if f["dispatched_since"]:
        criteria.append((_("派单自"), f"{timezone.localtime(f['dispatched_since']):%Y-%m-%d %H:%M}"))
        qs = qs.filter(dispatched_at__gte=f["dispatched_since"])
    if not criteria:
        raise DomainError(_("请指定要查看的工单范围。"), code="no_criteria")
    orders = qs.select_related("category", "street", "lead_unit").order_by("-dispatched_at", "-id")
    return Behind(orders=orders, criteria=[(str(k), str(v)) for k, v in criteria])


class CallsBehindForm(_MomentsInRange):
    """What the list of calls behind a figure is filtered by (combined with AND)."""

    alert = _id()
    caller = _id()
    category = _id()
    street = _id()
    community = _id()
    since = _moment()
    until = _moment()


@dataclass
class CallsBehind:
    calls: QuerySet
    criteria: list[tuple[str, str]] = field(default_factory=list)


def calls_behind(user: User, data) -> CallsBehind:
    """The visible calls a surge, hot topic, hot spot or repeat caller counted (`data`: the figure's
    link). DomainError for input that is not well formed; Http404 for an alert or call the user may
    not see."""
    f = _cleaned(CallsBehindForm, data)
    qs = access.visible_calls(user)
    criteria: list[tuple[str, str]] = []
    if f["alert"]:
        alert = access.visible_alerts(user, Alert.objects.select_related("category", "street", "community"))
        alert = alert.filter(pk=f["alert"]).first()
        if alert is None:
            raise Http404
        qs = access.visible_calls(user, alert_calls(alert))
        where = alert.street.name + (f" · {alert.community.name}" if alert.community_id else "")
        raised = timezone.localtime(alert.raised_at)
        criteria.append((_("爆单预警"), f"{where} “{alert.category.display_name}” {raised:%m-%d %H:%M}"))
    qs = _shared_filters(user, f, qs, criteria, call="")
    if not criteria:
        raise DomainError(_("请指定要查看的来电范围。"), code="no_criteria")
    calls = qs.select_related("category", "street", "community").order_by("-received_at", "-id")
    return CallsBehind(calls=calls, criteria=[(str(k), str(v)) for k, v in criteria])


def orders_of_calls(user: User, calls: list[Call]) -> None:
    """Set `order` on each call of a page: the order it became or, for a repeat call, the order it was
    linked into — when the user may open it (else None). A fixed number of queries per page."""
    own = dict(WorkOrder.objects.filter(call_id__in=[c.pk for c in calls]).values_list("call_id", "pk"))
    repeats = [c for c in calls if c.outcome == Call.Outcome.DUPLICATE]
    if repeats:
        # A repeat is linked during its intake, never before the call came in: the lower bound keeps
        # the lookup on the events index (event data has none).
        linked = OrderEvent.objects.filter(
            kind="duplicate_linked",
            at__gte=min(c.received_at for c in repeats),
            data__call__in=[c.pk for c in repeats],
        ).values_list("data__call", "order_id")
        own.update({int(call_id): order_id for call_id, order_id in linked})
    openable = access.visible_orders(user, WorkOrder.objects.filter(pk__in=set(own.values())))
    orders = openable.only("pk", "number", "state").in_bulk()
    for c in calls:
        c.led_to = orders.get(own.get(c.pk))


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
        rows = []
        for r in item.rows:
            # rows stored before "until" was kept end when their list was computed
            until = datetime.fromisoformat(r["until"]) if r.get("until") else item.computed_at
            rows.append({**r, "since": datetime.fromisoformat(r["since"]), "until": until})
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
