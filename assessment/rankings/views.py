"""Assessment pages: thin; reads go through selectors (scoped via hotline/access.py), writes through
services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from assessment import exports, periods, rates, rulesets
from assessment.models import RuleSet, Scope, Snapshot
from assessment.snapshots import selectors, services
from assessment.templatetags.assessment_tags import movement, pct, score
from districts.models import Division, Unit
from hotline import access, numbers
from hotline.errors import AccessDenied, DomainError
from hotline.models import Call


def requested_snapshot(request, *, with_stats: bool = False) -> tuple[str, Snapshot | None]:
    snapshot_id = request.GET.get("snapshot")
    if snapshot_id:
        if numbers.parse_id(snapshot_id) is None:
            raise Http404
        snapshot = get_object_or_404(selectors.snapshots(with_stats=with_stats), pk=snapshot_id)
        return snapshot.period, snapshot
    period = request.GET.get("period") or rulesets.current_period()
    try:
        periods.parse(period)
    except DomainError:
        raise Http404 from None
    return period, selectors.published_snapshot(period, with_stats=with_stats)


def guard(fn):
    """AccessDenied → 403 page; DomainError → 400 with its message."""

    def wrapper(request, *args, **kwargs):
        try:
            return fn(request, *args, **kwargs)
        except AccessDenied:
            raise PermissionDenied from None
        except DomainError as exc:
            return HttpResponseBadRequest(exc.message)

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


def _decorate(rows, user, *, within_district: bool) -> list:
    """Attach what the table shows: the rank in this table, its movement, bottom mark, ties, the
    points lost, and whether the viewer may open the orders behind the figures."""
    rows = list(rows)
    field = "in_district" if within_district else "citywide"
    counts: dict[int, int] = {}
    for r in rows:
        r.rank = getattr(r, f"rank_{field}")
        r.move = getattr(r, f"movement_{field}")
        r.is_bottom = getattr(r, f"bottom_{field}")
        measures = rates.measure_counts(r)
        r.not_contacted, r.not_resolved = measures["not_contacted"], measures["not_resolved"]
        if r.rank is not None:
            counts[r.rank] = counts.get(r.rank, 0) + 1
    # Links and formatted figures are made here once, not by template tags per cell: the citywide
    # table has 343 rows × 10 links.

    orders_url, scorecard_url = reverse("assessment-orders"), reverse("assessment-scorecard", args=[0])
    for r in rows:
        r.tied = r.rank is not None and counts[r.rank] > 1
        r.drillable = access.may_view_unit_figures(user, r.unit)
        r.drill = f"{orders_url}?snapshot={r.snapshot_id}&unit={r.unit_id}&scope={r.scope}&measure="
        r.scorecard_url = scorecard_url.replace("/0/", f"/{r.unit_id}/") + f"?snapshot={r.snapshot_id}"
        r.move_html = movement(r.move)
        r.response_pct, r.resolution_pct = pct(r.response_rate), pct(r.resolution_rate)
        r.satisfaction_pct, r.composite_text = pct(r.satisfaction_rate), score(r.composite)
    return rows


def _ranking_page(request, period, snapshot, *, rows, scope, within_district, export_scope, **extra):
    query = {"snapshot": snapshot.pk} if snapshot else {"period": period}
    period_query = urlencode(query)
    if extra.get("district") is not None:
        query["district"] = extra["district"].code
    return render(
        request,
        "assessment/ranking.html",
        page_context(
            request,
            period,
            snapshot,
            rows=_decorate(rows, request.user, within_district=within_district),
            scope=scope,
            within_district=within_district,
            export_scope=export_scope,
            export_query=urlencode(query),
            period_query=period_query,
            **extra,
        ),
    )


def page_context(request, period, snapshot, **extra):
    ruleset = snapshot.ruleset if snapshot else rulesets.active_ruleset()
    return {
        "period": period,
        "snapshot": snapshot,
        "ruleset": ruleset,
        "periods": sorted(set(selectors.available_periods()) | {period}, reverse=True),
        **extra,
    }


@login_required
@guard
def index(request):
    """Where "考核" leads: supervisors to their ranking or dashboard, a unit to its own scorecard."""
    user = request.user
    if access.may(user, access.Cap.ASSESSMENT_MANAGE):
        if access.supervised_district(user) is None:
            return redirect("assessment-dashboard")
        return redirect("assessment-district-streets")
    if access.may(user, access.Cap.ASSESSMENT) and user.unit_id:
        return redirect("assessment-scorecard", unit_id=user.unit_id)
    raise PermissionDenied


# The tables as the page and export URLs name them; which one a user gets, and for which district,
# is decided by access.ranking_scope (through selectors.ranking_for), as for the API.
TABLES = {
    "district-streets": Scope.STREET,
    "city-streets": Scope.STREET,
    "districts": Scope.DISTRICT,
    "departments": Scope.DEPARTMENT,
}


def _table(request, name: str) -> selectors.RankingTable:
    district = access.RANKING_CITYWIDE if name == "city-streets" else request.GET.get("district", "")
    return selectors.ranking_for(request.user, scope=TABLES[name], district=district)


def _ranking_view(request, name: str, table: selectors.RankingTable, *, title, **extra):
    """One ranking page: the table access.ranking_scope granted, for the period asked for."""
    period, snapshot = requested_snapshot(request)
    return _ranking_page(
        request,
        period,
        snapshot,
        rows=table.rows(snapshot),
        scope=table.scope,
        within_district=table.within_district,
        export_scope=name,
        district=table.district,
        title=title,
        **extra,
    )


@login_required
@guard
def district_streets(request):
    """Streets within one district (a district manager's own by default)."""
    table = _table(request, "district-streets")
    if table.district is None:  # the city's default: the whole city, for the period asked for
        query = request.GET.copy()
        query.pop("district", None)
        return redirect(reverse("assessment-city-streets") + (f"?{query.urlencode()}" if query else ""))
    return _ranking_view(
        request,
        "district-streets",
        table,
        title=_("%(district)s 街乡镇排名") % {"district": table.district.name},
        districts=_district_choices(request.user),
        show_citywide_rank=True,
    )


def _district_choices(user):
    """The districts a ranking page offers to switch to: every one for whoever oversees the whole
    city (access.supervised_district is None), none for a district manager (its own is the only
    one it may name)."""
    if access.supervised_district(user) is not None:
        return []
    return Division.objects.filter(level=Division.Level.DISTRICT).order_by("code")


@login_required
@guard
def city_streets(request):
    """All ranked streets of the city (the city center only), with their district; the district
    filter leads to that district's table (which keeps the citywide rank as a column)."""
    return _ranking_view(
        request,
        "city-streets",
        _table(request, "city-streets"),
        title=_("全市街乡镇排名"),
        districts=_district_choices(request.user),
        show_district=True,
    )


@login_required
@guard
def districts(request):
    return _ranking_view(request, "districts", _table(request, "districts"), title=_("各区排名"))


@login_required
@guard
def departments(request):
    table = _table(request, "departments")
    title = _("%(district)s 部门排名") % {"district": table.district.name} if table.district else _("部门排名")
    return _ranking_view(request, "departments", table, title=title)


@login_required
@guard
def scorecard(request, unit_id: int):
    unit = get_object_or_404(Unit.objects.select_related("division", "district"), pk=unit_id)
    if not access.may_view_unit_figures(request.user, unit):
        raise AccessDenied()
    period, snapshot = requested_snapshot(request)
    row = selectors.unit_row(snapshot, unit) if snapshot else None
    context = page_context(
        request,
        period,
        snapshot,
        unit=unit,
        row=row,
        scope=selectors.scope_of_unit(unit),
        lost=selectors.lost_points(snapshot, unit) if snapshot else {},
        trend=selectors.trend(unit, until=period),
        title=_("%(unit)s 考核成绩") % {"unit": unit.name},
    )
    return render(request, "assessment/scorecard.html", context)


def _drill_args(request):
    _period, snapshot = requested_snapshot(request)
    if snapshot is None:
        raise Http404
    unit_id = request.GET.get("unit", "")
    if numbers.parse_id(unit_id) is None:
        raise Http404
    unit = get_object_or_404(Unit, pk=unit_id)
    scope = request.GET.get("scope") or selectors.scope_of_unit(unit)
    if scope not in Scope.values:
        raise Http404
    measure = request.GET.get("measure", "valid")
    return snapshot, unit, scope, measure


@login_required
@guard
def orders(request):
    """The orders behind one figure of one unit in one snapshot."""
    snapshot, unit, scope, measure = _drill_args(request)
    focus = request.GET.get("focus", "")
    qs = selectors.orders_behind(request.user, snapshot=snapshot, unit=unit, scope=scope, measure=measure, focus=focus)
    page = Paginator(qs, 50).get_page(numbers.page_param(request.GET.get("page")))
    openable = selectors.openable_orders(request.user, [fact.order_id for fact in page.object_list])
    for fact in page.object_list:
        fact.differs = selectors.differs_now(fact)
        fact.counted_excluded = bool((fact.counted_bits or 0) & rates.BIT_EXCLUDED)
        fact.order_openable = fact.order_id in openable
    row = selectors.unit_row(snapshot, unit) if scope == selectors.scope_of_unit(unit) else None
    query = {"snapshot": snapshot.pk, "unit": unit.pk, "scope": scope, "measure": measure}
    if focus in selectors.FOCUS_ORDER:
        query["focus"] = focus
    context = {
        "snapshot": snapshot,
        "ruleset": snapshot.ruleset,
        "unit": unit,
        "scope": scope,
        "measure": measure,
        "measure_label": rates.MEASURES[measure][0],
        "measures": [(k, v[0]) for k, v in rates.MEASURES.items()],
        "page": page,
        "count": page.paginator.count,
        "row": row,
        "query": urlencode(query),
        "base_query": urlencode({k: v for k, v in query.items() if k not in ("measure", "focus")}),
        "phone_in_full": access.sees_phone_in_full(request.user),
    }
    return render(request, "assessment/orders.html", context)


@login_required
@guard
def export_orders(request, fmt: str):
    if fmt not in ("csv", "xlsx"):
        raise Http404
    snapshot, unit, scope, measure = _drill_args(request)
    qs = selectors.orders_behind(request.user, snapshot=snapshot, unit=unit, scope=scope, measure=measure)
    table = exports.order_table(qs, user=request.user)
    name = f"orders-{snapshot.period}-{unit.code}-{measure}"
    if fmt == "csv":
        return exports.stream_csv(name, table)
    return exports.stream_xlsx(name, table, title=_("工单"))


@login_required
@guard
def export_ranking(request, scope: str, fmt: str):
    if fmt not in ("csv", "xlsx") or scope not in TABLES:
        raise Http404
    table = _table(request, scope)
    _period, snapshot = requested_snapshot(request)
    if snapshot is None:
        raise Http404
    if table.scope == Scope.STREET:
        kind = table.district.code if table.district else "city"
    elif table.scope == Scope.DISTRICT:
        kind = "districts"
    else:
        kind = f"departments-{table.district.code}" if table.district else "departments"
    rows = exports.ranking_table(table.rows(snapshot), within_district=table.within_district)
    name = f"ranking-{snapshot.period}-{kind}"
    if fmt == "csv":
        return exports.stream_csv(name, rows)
    return exports.stream_xlsx(name, rows, title=_("排名"))


@login_required
@guard
def snapshot_list(request):
    if not access.may(request.user, access.Cap.ASSESSMENT_MANAGE):
        raise AccessDenied()
    snapshots = Snapshot.objects.select_related("ruleset", "base").order_by("-period", "-computed_at")[:60]
    return render(request, "assessment/snapshots.html", {"snapshots": snapshots})


@login_required
@guard
def snapshot_detail(request, pk: int):
    if not access.may(request.user, access.Cap.ASSESSMENT_MANAGE):
        raise AccessDenied()
    snapshot = get_object_or_404(Snapshot.objects.select_related("ruleset", "base__ruleset"), pk=pk)
    differences = selectors.snapshot_differences(request.user, snapshot)
    return render(
        request,
        "assessment/snapshot_detail.html",
        {"snapshot": snapshot, "differences": differences},
    )


@login_required
@require_POST
@guard
def snapshot_action(request):
    """City: freeze a finished period, or recompute a frozen one under the active rules."""
    action = request.POST.get("action", "")
    period = request.POST.get("period", "")
    snapshot = services.snapshot_run(
        action=action, period=period, acting_user=request.user, label=request.POST.get("label", "")
    )
    if action == "freeze":
        messages.success(request, _("%(period)s 已冻结。") % {"period": period})
    elif action == "recompute":
        messages.success(request, _("已重算，差异 %(n)s 项。") % {"n": len(snapshot.differences)})
    else:
        messages.success(request, _("已更新临时结果。"))
    return redirect("assessment-snapshot", pk=snapshot.pk)


@login_required
def rules(request):
    if not access.may(request.user, access.Cap.ASSESSMENT_MANAGE):
        raise PermissionDenied

    error = None
    if request.method == "POST":
        if not access.may(request.user, access.Cap.RULE_ASSESSMENT):
            raise PermissionDenied
        values = {k: request.POST.get(k) for k in rulesets.RULE_FIELDS if k != "counted_request_types"}
        values["counted_request_types"] = request.POST.getlist("counted_request_types")
        try:
            published = rulesets.ruleset_publish(acting_user=request.user, **values)
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, _("已发布规则 v%(v)s。") % {"v": published.version})
            return redirect("assessment-rules")
    return render(
        request,
        "assessment/rules.html",
        {
            "versions": RuleSet.objects.select_related("created_by")[:30],
            "active": rulesets.active_ruleset(),
            "request_types": Call.RequestType.choices,
            "period_starts": RuleSet.PeriodStart.choices,
            "error": error,
            "form_values": request.POST if error else None,
        },
        status=400 if error else 200,
    )
