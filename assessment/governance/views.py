"""Proactive-governance pages: hot topics, surges, repeats, hot spots; reports; 每月一题."""

import io

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from assessment import periods, rulesets
from assessment.governance import selectors as governance_selectors
from assessment.governance import services as gov
from districts.models import Division
from hotline import access, numbers
from hotline.errors import DomainError
from hotline.models import Category


def _require_manager(user):
    if not access.may(user, access.Cap.ASSESSMENT_MANAGE):
        raise PermissionDenied


@login_required
def governance(request):
    _require_manager(request.user)
    user = request.user
    # The lists that group a month of calls come from the last refresh (every 10 minutes); until
    # there is one (a new installation) they are computed now.
    stored = governance_selectors.stored_lists(user)

    def rows_of(kind, live):
        return stored[kind][0] if kind in stored else live()

    lists = {
        "hot_topics": (
            rows_of("hot_topics", lambda: gov.hot_topics(user=user, limit=gov.HOT_TOPICS_SHOWN)),
            gov.HOT_TOPICS_SHOWN,
        ),
        "alerts": (list(gov.recent_alerts(user=user, limit=30)), 30),
        "repeat_orders": (list(gov.repeat_orders(user=user, limit=50)), 50),
        "repeat_callers": (rows_of("repeat_callers", lambda: gov.repeat_callers(user=user)), gov.REPEAT_CALLERS_SHOWN),
        "hot_spots": (
            rows_of("hot_spots", lambda: gov.hot_spots(user=user, limit=gov.HOT_SPOTS_SHOWN)),
            gov.HOT_SPOTS_SHOWN,
        ),
    }
    context = {name: rows for name, (rows, _limit) in lists.items()}
    computed_at = min((at for _rows, at in stored.values()), default=None)
    context["computed_at"] = computed_at
    context["stale"] = computed_at is not None and computed_at < timezone.now() - governance_selectors.STALE_AFTER
    # A list that reached its limit says so (it shows the first N, not all)
    context["cut"] = {name: limit for name, (rows, limit) in lists.items() if len(rows) >= limit}
    return render(request, "assessment/governance.html", context)


def _behind_page(request, select, template: str, *, rows: str, annotate=None):
    """A list behind a governance figure: the selector's rows paginated, or its message (400)."""
    _require_manager(request.user)
    try:
        behind = select(request.user, request.GET)
    except DomainError as exc:
        return render(request, template, {"error": exc.message}, status=400)
    page = Paginator(getattr(behind, rows), 50).get_page(numbers.page_param(request.GET.get("page")))
    if annotate is not None:
        annotate(request.user, page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"criteria": behind.criteria, "page": page, "count": page.paginator.count, "query": query.urlencode()}
    return render(request, template, context)


@login_required
def orders(request):
    """The orders behind a governance or dashboard figure (see governance.selectors.orders_behind)."""
    return _behind_page(request, governance_selectors.orders_behind, "assessment/governance_orders.html", rows="orders")


@login_required
def calls(request):
    """The calls behind a surge, hot topic, hot spot or repeat-caller figure, each with its order
    (governance.selectors.calls_behind)."""
    return _behind_page(
        request,
        governance_selectors.calls_behind,
        "assessment/governance_calls.html",
        rows="calls",
        annotate=governance_selectors.orders_of_calls,
    )


@login_required
def reports(request):
    _require_manager(request.user)
    kind = request.GET.get("kind", "")
    rows = gov.visible_reports(request.user)
    if kind:
        rows = rows.filter(kind=kind)
    return render(
        request,
        "assessment/reports.html",
        {
            "reports": rows.order_by("-period_start", "kind", "scope_key")[:100],
            "kind": kind,
        },
    )


@login_required
def report_download(request, pk: int):
    report = get_object_or_404(gov.visible_reports(request.user), pk=pk)
    if not report.file:
        raise Http404
    filename = report.file.name.rsplit("/", 1)[-1]
    if translation.get_language() != settings.LANGUAGE_CODE:
        # The stored file is in the installation's language; another language's reader gets the same
        # stored figures (report.content) written out in theirs.
        return FileResponse(io.BytesIO(gov.report_xlsx(report)), as_attachment=True, filename=filename)
    return FileResponse(report.file.open("rb"), as_attachment=True, filename=filename)


@login_required
def topics(request):
    _require_manager(request.user)
    error = None
    if request.method == "POST":
        if not access.may(request.user, access.Cap.RULE_ASSESSMENT):
            raise PermissionDenied
        try:
            category_id = numbers.parse_id(request.POST.get("category")) or 0
            topic = gov.topic_create(
                acting_user=request.user,
                period=request.POST.get("period", ""),
                category_id=category_id,
                title=request.POST.get("title", ""),
                district_code=request.POST.get("district", ""),
                note=request.POST.get("note", ""),
            )
        except (DomainError, ValueError) as exc:
            error = getattr(exc, "message", _("请选择诉求分类。"))
        else:
            messages.success(request, _("已设立每月一题：%(title)s") % {"title": topic.title})
            return redirect("assessment-topics")
    period = request.GET.get("period") or ""
    if period:
        try:
            periods.parse(period)
        except DomainError:
            raise Http404 from None
    return render(
        request,
        "assessment/topics.html",
        {
            "progress": gov.topics_progress(user=request.user, period=period or None),
            "candidates": gov.topic_candidates() if access.may(request.user, access.Cap.RULE_ASSESSMENT) else [],
            "categories": Category.objects.filter(is_active=True).order_by("code")[:500],
            "districts": Division.objects.filter(level=Division.Level.DISTRICT),
            "current_period": rulesets.current_period(),
            "error": error,
        },
        status=400 if error else 200,
    )
