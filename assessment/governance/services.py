"""Proactive governance (主动治理 / 未诉先办): surge warnings, hot topics, repeat complaints, hot
spots, daily/weekly/monthly reports and 每月一题. Detection is SQL (GROUP BY with conditional counts);
writes are idempotent through unique keys."""

from __future__ import annotations

import io
import operator
import time
from datetime import datetime, timedelta
from functools import reduce

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from assessment import exports, periods, rates
from assessment.governance import selectors as governance_selectors
from assessment.models import Alert, GovernanceList, MonthlyTopic, Report
from assessment.rulesets import ruleset_active
from districts.models import Division, Unit
from hotline import access
from hotline.errors import AccessDenied, DomainError
from hotline.localnames import localized_field
from hotline.models import Call, Category, User
from hotline.privacy import mask_phone
from workorders.models import Notification, OrderState, WorkOrder
from workorders.notifications.outbox import recipients_by_unit

BULK = 1000  # rows per INSERT


# --- Surge warnings (爆单) --------------------------------------------------------------------------
def surge_clusters(*, now: datetime, window: timedelta, min_calls: int) -> QuerySet:
    """Category × place clusters with at least `min_calls` calls in the window (place = the
    community when known, else the street)."""
    return (
        governance_selectors.surge_calls(now=now, window=window)
        .values("category_id", "street_id", "community_id", "district_id")
        .annotate(n=Count("id"))
        .filter(n__gte=min_calls)
        .order_by("-n")
    )


def surge_detect(*, now: datetime | None = None) -> list[Alert]:
    """Raise one alert per cluster per window and notify the district's people. Safe to run often
    and twice: a cluster alerted within the last window is not alerted again, and the unique key
    (cluster, window) admits one row even when two runs race. A fixed number of queries however
    many clusters surge: the clusters, the recent alerts, the names and recipients, then the
    alerts and their notifications inserted in bulk in one transaction."""

    now = now or timezone.now()
    window = timedelta(minutes=settings.SURGE_WINDOW_MINUTES)
    min_calls = settings.SURGE_MIN_CALLS
    seconds = int(window.total_seconds())
    bucket = datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=now.tzinfo or timezone.utc)
    clusters = list(surge_clusters(now=now, window=window, min_calls=min_calls))
    if not clusters:
        return []

    # A cluster's key: (category, street, community or 0), as in the alerts' unique key.
    streets = {c["street_id"] for c in clusters}
    recent = set(
        Alert.objects.filter(kind=Alert.Kind.SURGE, street_id__in=streets, raised_at__gt=now - window)
        .values_list("category_id", "street_id", "community_key")
        .order_by()
    )
    new = [c for c in clusters if (c["category_id"], c["street_id"], c["community_id"] or 0) not in recent]
    if not new:
        return []
    places = dict(
        Division.objects.filter(pk__in={c["community_id"] or c["street_id"] for c in new}).values_list("id", "name")
    )
    categories = dict(Category.objects.filter(pk__in={c["category_id"] for c in new}).values_list("id", "name"))
    # Unit.division is one-to-one: a district has one district unit. Its active members are told
    # (notify_units' rule; that function takes one title, these are one per alert).
    district_units = dict(
        Unit.objects.filter(kind=Unit.Kind.DISTRICT, division_id__in={c["district_id"] for c in new}).values_list(
            "division_id", "id"
        )
    )
    recipients = recipients_by_unit(district_units.values())

    candidates = {}
    for c in new:
        if (c["category_id"], c["street_id"], c["community_id"] or 0) in candidates:
            continue  # calls of one street filed under two districts: one alert, as the unique key wants
        unit_id = district_units.get(c["district_id"])
        title = _("爆单预警：%(place)s “%(category)s” %(minutes)s 分钟内 %(n)s 件来电") % {
            "place": places.get(c["community_id"] or c["street_id"], ""),
            "category": categories.get(c["category_id"], ""),
            "minutes": seconds // 60,
            "n": c["n"],
        }
        alert = Alert(
            kind=Alert.Kind.SURGE,
            category_id=c["category_id"],
            district_id=c["district_id"],
            street_id=c["street_id"],
            community_id=c["community_id"],
            community_key=c["community_id"] or 0,
            window_start=bucket,
            window_end=now,
            calls=c["n"],
            raised_at=now,
            notified=len(recipients.get(unit_id, [])),
        )
        candidates[(alert.category_id, alert.street_id, alert.community_key)] = (alert, str(title)[:200], unit_id)

    with transaction.atomic():
        # A race with another run on the same window loses its rows to the unique key, silently;
        # the rows raised at this run's `now` are then exactly the ones this run inserted.
        Alert.objects.bulk_create(
            [alert for alert, _title, _unit in candidates.values()], ignore_conflicts=True, batch_size=BULK
        )
        inserted = {
            (a.category_id, a.street_id, a.community_key): a
            for a in Alert.objects.filter(
                kind=Alert.Kind.SURGE, window_start=bucket, raised_at=now, street_id__in=streets
            )
        }
        raised = [inserted[k] for k in candidates if k in inserted]
        Notification.objects.bulk_create(
            [
                Notification(user_id=user_id, kind="surge", title=title, url="/assessment/governance/")
                for k, (_alert, title, unit_id) in candidates.items()
                if k in inserted
                for user_id in recipients.get(unit_id, [])
            ],
            batch_size=BULK,
        )
    return raised


# --- Hot topics, repeats, hot spots ----------------------------------------------------------------
def hot_topics(
    *,
    user: User,
    now: datetime | None = None,
    days: int = 7,
    baseline_weeks: int = 4,
    min_calls: int = 5,
    ratio: float = 2.0,
    limit: int = 30,
) -> list[dict]:
    """Category × street clusters whose calls in the last `days` are at least `ratio` times their own
    average over the `baseline_weeks` before (and at least `min_calls`)."""
    now = now or timezone.now()
    recent_from = now - timedelta(days=days)
    calls = governance_selectors.placed_calls(
        user, since=recent_from - timedelta(days=days * baseline_weeks), until=now
    ).filter(category__isnull=False, street__isnull=False)
    category_name = localized_field("category__")
    rows = (
        calls.values("category_id", "category__name", category_name, "street_id", "street__name")
        .annotate(
            recent=Count("id", filter=Q(received_at__gte=recent_from)),
            before=Count("id", filter=Q(received_at__lt=recent_from)),
        )
        .filter(recent__gte=min_calls)
        .filter(recent__gte=F("before") * ratio / baseline_weeks)
        .order_by("-recent")[:limit]
    )
    return [
        {
            "category": r[category_name] or r["category__name"],
            "category_id": r["category_id"],
            "street": r["street__name"],
            "street_id": r["street_id"],
            "recent": r["recent"],
            "since": recent_from,
            "until": now,
            "baseline": round(r["before"] / baseline_weeks, 1),
        }
        for r in rows
    ]


def repeat_orders(*, user: User, min_duplicates: int = 2, limit: int = 50) -> QuerySet:
    """Orders with at least `min_duplicates` linked repeat calls (the partial index `order_repeated`
    serves any value of 2 or more)."""
    return (
        access.visible_orders(user)
        .filter(duplicate_count__gte=min_duplicates)
        .select_related("category", "street")
        .order_by("-duplicate_count", "-dispatched_at")[:limit]
    )


REPEAT_CALLERS_SHOWN = 30
HOT_TOPICS_SHOWN = 30
HOT_SPOTS_SHOWN = 15


def repeat_callers(*, user: User, now: datetime | None = None, days: int = 30, min_calls: int = 3) -> list[dict]:

    now = now or timezone.now()
    rows = (
        governance_selectors.placed_calls(user, since=now - timedelta(days=days), until=now)
        .exclude(caller_phone="")
        .exclude(access.caller_hidden_q(user))  # 保密工单: a caller this viewer may not see is not listed
        .values("caller_phone")
        .annotate(n=Count("id"), last_call=Max("id"))
        .filter(n__gte=min_calls)
        .order_by("-n")[:REPEAT_CALLERS_SHOWN]
    )
    full = access.sees_phone_in_full(user)
    # A caller's orders are linked by one of their calls' id, never by the number (no phone in URLs).
    return [
        {
            "phone": r["caller_phone"] if full else mask_phone(r["caller_phone"]),
            "calls": r["n"],
            "call_id": r["last_call"],
            "since": now - timedelta(days=days),
            "until": now,
        }
        for r in rows
    ]


def hot_spots(*, user: User, now: datetime | None = None, days: int = 30, limit: int = 15) -> list[dict]:
    now = now or timezone.now()
    rows = (
        governance_selectors.placed_calls(user, since=now - timedelta(days=days), until=now)
        .filter(community__isnull=False)
        .values("community_id", "community__name", "street__name")
        .annotate(n=Count("id"))
        .order_by("-n")[:limit]
    )
    since = now - timedelta(days=days)
    return [
        {
            "community": r["community__name"],
            "community_id": r["community_id"],
            "street": r["street__name"],
            "calls": r["n"],
            "since": since,
            "until": now,
        }
        for r in rows
    ]


def recent_alerts(*, user: User, limit: int = 30) -> QuerySet:
    alerts = Alert.objects.select_related("category", "street", "community").order_by("-raised_at")
    return access.visible_alerts(user, alerts)[:limit]


# --- Stored lists: the page's month-of-calls groupings, refreshed by beat -----------------------------
STORED_LISTS = ("hot_topics", "repeat_callers", "hot_spots")
CITY_SCOPE = governance_selectors.CITY_SCOPE


def _scope_users() -> list[tuple[str, User]]:
    """(scope key, an unsaved supervisor of the scope) for the city and each district with a unit, so
    each stored list is computed through the one scoping place (access.visible_calls) exactly as the
    page computes it for that supervisor."""
    units = {u.division_id: u for u in Unit.objects.filter(kind=Unit.Kind.DISTRICT).select_related("division")}
    districts = Division.objects.filter(level=Division.Level.DISTRICT).order_by("code")
    return [(CITY_SCOPE, access.supervisor_of(None))] + [
        (d.code, access.supervisor_of(units[d.pk])) for d in districts if d.pk in units
    ]


def _stored_rows(kind: str, user: User, now: datetime) -> list[dict]:
    """The list as the page shows it, in a JSON-safe form: ids instead of names that depend on the
    viewer's language, one call id instead of a phone number."""
    if kind == "hot_topics":
        rows = hot_topics(user=user, now=now, limit=HOT_TOPICS_SHOWN)
        keep = ("category_id", "street", "street_id", "recent", "baseline")
    elif kind == "repeat_callers":
        rows = repeat_callers(user=user, now=now)
        keep = ("call_id", "calls")
    else:
        rows = hot_spots(user=user, now=now, limit=HOT_SPOTS_SHOWN)
        keep = ("community", "community_id", "street", "calls")
    return [{**{k: r[k] for k in keep}, "since": r["since"].isoformat(), "until": r["until"].isoformat()} for r in rows]


def governance_lists_refresh(*, now: datetime | None = None) -> int:
    """Recompute the stored lists for the city and every district (one transaction per list)."""
    now = now or timezone.now()
    refreshed = 0
    for key, user in _scope_users():
        for kind in STORED_LISTS:
            started = time.monotonic()
            rows = _stored_rows(kind, user, now)
            GovernanceList.objects.update_or_create(
                scope_key=key,
                kind=kind,
                defaults={"computed_at": now, "seconds": time.monotonic() - started, "rows": rows},
            )
            refreshed += 1
    return refreshed


# --- Reports (日报/周报/月报) -----------------------------------------------------------------------
def _report_content(start: datetime, end: datetime, district: Division | None) -> dict:
    ruleset = ruleset_active()
    calls = Call.objects.filter(received_at__gte=start, received_at__lt=end)
    orders = WorkOrder.objects.filter(dispatched_at__gte=start, dispatched_at__lt=end)
    # The callbacks are counted as the ranking counts them (rates.py), under the active rule set.
    callbacks = rates.window_facts(ruleset, start, end)
    if district is not None:
        calls, orders, callbacks = (
            calls.filter(district=district),
            orders.filter(district=district),
            callbacks.filter(district=district),
        )
    cb = callbacks.aggregate(**rates.count_aggregates(ruleset))
    top = list(orders.values("category__name").annotate(n=Count("id")).order_by("-n", "category__name")[:10])
    by_street = list(orders.values("street__name").annotate(n=Count("id")).order_by("-n", "street__name")[:10])
    surges = Alert.objects.filter(raised_at__gte=start, raised_at__lt=end)
    if district is not None:
        surges = surges.filter(district=district)
    return {
        "calls": calls.count(),
        "orders": orders.count(),
        "completed": orders.filter(state=OrderState.COMPLETED).count(),
        "ruleset_version": ruleset.version,
        "callbacks": cb,
        **rates.figures(cb, rates.Weights.of(ruleset)),
        "top_categories": [[r["category__name"] or "—", r["n"]] for r in top],
        "top_streets": [[r["street__name"] or "—", r["n"]] for r in by_street],
        "surges": surges.count(),
    }


def report_xlsx(report: Report) -> bytes:
    from openpyxl import Workbook  # imported when an Excel file is made: it costs every process start otherwise

    c = report.content
    wb = Workbook(write_only=True)
    sheets = []

    def sheet(title: str, rows: list[list]) -> None:
        ws = wb.create_sheet(exports.sheet_title(title))
        exports.set_widths(ws, rows)
        for row in rows:  # through the exports' one cell writer: neutralised text, rates as numbers
            ws.append(exports.xlsx_row(ws, row))
        sheets.append(ws)

    rates_rows = [
        [label, "" if c[key] is None else exports.Rate(c[key])]
        for label, key in (
            (_("响应率"), "response_rate"),
            (_("解决率"), "resolution_rate"),
            (_("满意率"), "satisfaction_rate"),
        )
    ]
    sheet(
        _("概况"),
        [
            [report.display_title],
            [_("来电"), c["calls"]],
            [_("派发工单"), c["orders"]],
            [_("已完成"), c["completed"]],
            [_("有效回访"), c["callbacks"]["valid"]],
            *rates_rows,
            [_("爆单预警"), c["surges"]],
        ],
    )
    sheet(_("高频分类"), [[_("诉求分类"), _("工单数")], *c["top_categories"]])
    sheet(_("街乡镇"), [[_("街乡镇"), _("工单数")], *c["top_streets"]])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def report_generate(*, kind: str, start: datetime, end: datetime, district: Division | None = None) -> Report:
    """Generate (once) the report of one kind, period and scope; a second call returns the first."""
    scope_key = district.code if district else CITY_SCOPE
    existing = Report.objects.filter(kind=kind, scope_key=scope_key, period_start=start).first()
    if existing is not None:
        return existing
    report = Report(kind=kind, district=district, scope_key=scope_key, period_start=start, period_end=end)
    report.content = _report_content(start, end, district)
    # The title and the file are stored in the installation's language whoever triggered them; the
    # pages show display_title, and the download writes the figures out, in the reader's.
    with translation.override(settings.LANGUAGE_CODE):
        report.title = report.display_title
        workbook = report_xlsx(report)
    try:
        with transaction.atomic():
            report.save(force_insert=True)
            report.file.save(
                f"{kind}-{scope_key}-{timezone.localtime(start):%Y%m%d}.xlsx", ContentFile(workbook), save=True
            )
    except IntegrityError:
        return Report.objects.get(kind=kind, scope_key=scope_key, period_start=start)
    return report


def reports_generate_due(*, now: datetime | None = None) -> list[Report]:
    """Yesterday's daily reports; last week's on Mondays; the last assessment period's on the day a
    new one starts (the 1st, or the 19th under that rule), so that the monthly report counts the
    same orders as that period's ranking — citywide and for every district."""
    now = timezone.localtime(now or timezone.now())
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    windows = [(Report.Kind.DAILY, today - timedelta(days=1), today)]
    if today.weekday() == 0:
        windows.append((Report.Kind.WEEKLY, today - timedelta(days=7), today))
    ruleset = ruleset_active()
    start, end = rates.period_bounds(ruleset, periods.shift(periods.period_of(today, ruleset.period_start_day), -1))
    if end == today:
        windows.append((Report.Kind.MONTHLY, start, end))
    scopes = [None, *Division.objects.filter(level=Division.Level.DISTRICT).order_by("code")]
    return [report_generate(kind=k, start=s, end=e, district=d) for k, s, e in windows for d in scopes]


def visible_reports(user: User) -> QuerySet:
    """Every report for whoever oversees the whole city, a district's own for its manager, none for
    anyone else (a district account without a district included)."""
    reports = Report.objects.select_related("district")
    try:
        district = access.supervised_district(user)
    except AccessDenied:
        return reports.none()
    return reports if district is None else reports.filter(district=district)


# --- 每月一题 ----------------------------------------------------------------------------------------
def topic_candidates(*, now: datetime | None = None, limit: int = 10) -> list[dict]:
    """The most frequent categories of the last 30 days, with how many streets they touched."""
    now = now or timezone.now()
    since = now - timedelta(days=30)
    category_name = localized_field("category__")
    rows = (
        WorkOrder.objects.filter(dispatched_at__gte=since)
        .values("category_id", "category__name", category_name)
        .annotate(n=Count("id"), streets=Count("street", distinct=True))
        .order_by("-n")[:limit]
    )
    return [
        {
            "category_id": r["category_id"],
            "category": r[category_name] or r["category__name"],
            "orders": r["n"],
            "streets": r["streets"],
            "since": since,
        }
        for r in rows
    ]


def topic_create(
    *, acting_user: User, period: str, category_id: int, title: str, district_code: str = "", note: str = ""
) -> MonthlyTopic:
    access.require(acting_user, access.Cap.RULE_ASSESSMENT)
    periods.parse(period)
    title = (title or "").strip()
    if not title:
        raise DomainError(_("请填写题目。"), code="title_required")
    category = Category.objects.filter(pk=category_id).first()
    if category is None:
        raise DomainError(_("请选择诉求分类。"), code="category_required")
    district = None
    if district_code:
        district = Division.objects.filter(code=district_code, level=Division.Level.DISTRICT).first()
        if district is None:
            raise DomainError(_("未知的区。"), code="invalid_district")
    if MonthlyTopic.objects.filter(period=period, category=category, district=district).exists():
        raise DomainError(_("该月已有相同分类的题目。"), code="duplicate_topic")
    return MonthlyTopic.objects.create(
        period=period, category=category, district=district, title=title[:120], note=note, created_by=acting_user
    )


def topics_progress(*, user: User, period: str | None = None) -> list[dict]:
    """Each topic with its orders (dispatched in the topic's month, visible to the viewer): total,
    open, completed; those with a callback fact assessed on three rates (called back) and with a
    resolved one, counted through rates.py as the ranking counts (scope, exclusion, counting rule,
    corrections), and the resolution rate of rates.FORMULAS over them."""
    topics = access.visible_topics(user, MonthlyTopic.objects.select_related("category", "district")).order_by(
        "-period", "id"
    )
    if period:
        topics = topics.filter(period=period)
    topics = list(topics[:50])
    if not topics:
        return []
    ruleset = ruleset_active()
    # One query for every topic: each topic's orders are a condition, each figure a FILTER on it
    # (the same conditions the list of the orders behind a figure filters by). Each fact measure is
    # one EXISTS per order, shared by all topics.
    of_topic = {t.pk: governance_selectors.topic_q(t) for t in topics}
    measures = {
        m: governance_selectors.topic_measure_q(m, ruleset, alias=f"has_{m}")
        for m in governance_selectors.TOPIC_MEASURES
        if m != "open"
    }
    orders = access.visible_orders(user).filter(reduce(operator.or_, of_topic.values()))
    orders = orders.alias(**governance_selectors.topic_fact_aliases(ruleset))
    counted = orders.aggregate(
        **{f"{m}_{pk}": Count("id", filter=q & mq) for pk, q in of_topic.items() for m, mq in measures.items()}
    )
    out = []
    for t in topics:
        figures = {m: counted[f"{m}_{t.pk}"] for m in measures}
        figures["open"] = figures["total"] - figures["completed"]
        figures["resolution_rate"] = rates.rate(
            "resolution_rate", {"resolved": figures["resolved"], "valid_full": figures["called_back"]}
        )
        out.append({"topic": t, **figures})
    return out
