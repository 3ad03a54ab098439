from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from districts import selectors as division_selectors
from hotline import access
from hotline.intake import selectors as intake_selectors
from hotline.models import Role
from hotline.web import health
from hotline.web import selectors as web_selectors
from workorders.handling.selectors import inbox_counts

HOME_TEMPLATES = {
    Role.AGENT: "home/agent.html",
    Role.STREET: "home/street.html",
    Role.DEPARTMENT: "home/department.html",
    Role.DISTRICT: "home/district.html",
    Role.CITY: "home/city.html",
}


@login_required
def home(request):
    role = access.role_of(request.user)
    if role is None:
        return render(request, "home/no_role.html", status=403)
    context = {
        "today_calls": intake_selectors.intake_today(user=request.user)["calls"],
        "recent_calls": intake_selectors.calls_recent(user=request.user),
        "unit": request.user.unit,
    }
    if access.may(request.user, access.Cap.HANDLE):
        context["desk"] = inbox_counts(request.user)
    if role == Role.DISTRICT:
        context["streets"] = division_selectors.streets_of_district(request.user.unit.division)
        context["approvals"] = web_selectors.approvals_waiting(user=request.user)
    if role == Role.CITY:
        context["districts"] = division_selectors.districts_with_counts()
    return render(request, HOME_TEMPLATES[role], context)


@never_cache
@require_GET
def healthz(request):
    db_ok, db_info = health.database_ok()
    broker_ok, broker_info = health.broker_ok()
    last_seen = health.worker_last_seen() if db_ok else None
    stale_after = timedelta(seconds=settings.WORKER_HEARTBEAT_STALE_SECONDS)
    worker_ok = last_seen is not None and timezone.now() - last_seen <= stale_after
    # The HTTP status follows what this web process needs (database, broker); a stale worker is
    # reported in the body, so the web container is not restarted for the worker's sake.
    body = {
        "status": "ok" if db_ok and broker_ok else "fail",
        "database": {"ok": db_ok, "detail": db_info},
        "broker": {"ok": broker_ok, "detail": broker_info},
        "worker": {"ok": worker_ok, "stale_after_seconds": settings.WORKER_HEARTBEAT_STALE_SECONDS},
        "worker_last_seen": last_seen.isoformat() if last_seen else None,
        "time": timezone.now().isoformat(),
    }
    return JsonResponse(body, status=200 if db_ok and broker_ok else 503)
