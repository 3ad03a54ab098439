from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from assessment.dashboards import data as dashboards
from assessment.rankings.views import guard, page_context, requested_snapshot
from hotline import access


# --- Dashboards ---------------------------------------------------------------------------------
@login_required
@guard
def dashboard(request):
    access.require(request.user, access.Cap.ASSESSMENT_MANAGE)
    district = access.supervised_district(request.user)
    period, snapshot = requested_snapshot(request)
    data_url = reverse("assessment-dashboard-data") + "?" + urlencode({"period": period})
    return render(
        request,
        "assessment/dashboard.html",
        page_context(request, period, snapshot, district=district, data_url=data_url, title=_("考核看板")),
    )


@login_required
@require_GET
@guard
def dashboard_data(request):
    access.require(request.user, access.Cap.ASSESSMENT_MANAGE)
    period, snapshot = requested_snapshot(request, with_stats=True)
    return JsonResponse(dashboards.dashboard_data(request.user, period=period, snapshot=snapshot))
