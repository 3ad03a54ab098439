"""未诉先办 pages and API: the week's expected rises for the viewer's area, and the center's staffing."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from assessment.forecasts import selectors
from hotline import access
from hotline.errors import AccessDenied, DomainError
from hotline.web.api import gate


def _forecast(user, data) -> dict:
    """Everything the page and the API show; DomainError for a bad request, Http404 before any run."""
    run = selectors.latest_run()
    area = selectors.area_of(user, data)
    if run is None:
        raise Http404
    week = selectors.week_of(run, data.get("week"))
    rows = selectors.categories(run, area, week)
    total = sum(r["expected"] for r in rows)
    return {
        "run": run,
        "area": area,
        "week": week,
        "rows": rows,
        "total": total,
        "recent": sum(r["recent"] for r in rows),
        "weeks": selectors.weeks(run, area),
        "days": selectors.days(run, total, week),
        "units": selectors.units(run, area, week),
    }


@login_required
def forecasts(request):
    try:
        context = _forecast(request.user, request.GET)
    except AccessDenied:
        raise PermissionDenied from None
    except DomainError as exc:
        return render(request, "assessment/forecasts.html", {"error": exc.message}, status=400)
    except Http404:
        return render(request, "assessment/forecasts.html", {"no_run": True})
    context["rising"] = [r for r in context["rows"] if r["rising"]]
    return render(request, "assessment/forecasts.html", context)


@login_required
def staffing(request):
    if not access.may(request.user, access.Cap.STAFFING):
        raise PermissionDenied
    run = selectors.latest_run()
    if run is None:
        return render(request, "assessment/forecasts_staffing.html", {"no_run": True})
    try:
        day = selectors.staffing_day(run, request.GET.get("day"))
    except DomainError as exc:
        return render(request, "assessment/forecasts_staffing.html", {"error": exc.message}, status=400)
    rows = selectors.staffing(run, day)
    return render(
        request,
        "assessment/forecasts_staffing.html",
        {
            "run": run,
            "day": day,
            "rows": rows,
            "has_rota": any(r["planned"] is not None for r in rows),
            "share": f"{settings.STAFFING_ANSWER_PERCENT}%",
            "target": settings.STAFFING_ANSWER_SECONDS,
            "days": [run.first_day + timedelta(days=i) for i in range(run.days)],
        },
    )


# One category row of the forecast API (for the OpenAPI schema; the view builds the rows itself).
FORECAST_CATEGORY_FIELDS = {
    "category": serializers.CharField(allow_null=True),
    "name": serializers.CharField(),
    "expected": serializers.FloatField(),
    "recent": serializers.FloatField(),
    "last_year": serializers.IntegerField(allow_null=True),
    "rising": serializers.BooleanField(),
}


class ForecastApi(APIView):
    """The week's forecast for an area: `district` / `street` (division ids), `week` (YYYY-MM-DD)."""

    permission_classes = [gate(access.Cap.FORECASTS)]

    @extend_schema(
        parameters=[
            OpenApiParameter("district", int, description="district division id"),
            OpenApiParameter("street", int, description="street division id"),
            OpenApiParameter("week", str, description="YYYY-MM-DD (a Monday within the horizon)"),
        ],
        responses=inline_serializer(
            "Forecast",
            {
                "area": serializers.CharField(required=False),
                "week": serializers.CharField(required=False),
                "computed_at": serializers.CharField(allow_null=True),
                "method": serializers.CharField(required=False),
                "expected": serializers.FloatField(required=False),
                "recent": serializers.FloatField(required=False),
                "categories": inline_serializer("ForecastCategory", FORECAST_CATEGORY_FIELDS, many=True),
                "weeks": serializers.ListField(child=serializers.DictField()),
                "days": serializers.ListField(child=serializers.DictField(), required=False),
                "detail": serializers.CharField(required=False),
            },
        ),
    )
    def get(self, request):
        try:
            f = _forecast(request.user, request.query_params)
        except Http404:
            # a new installation before the first nightly run: nothing to forecast yet, not an error
            return Response({"detail": _("尚未计算预测。"), "computed_at": None, "categories": [], "weeks": []})
        return Response(
            {
                "area": f["area"].name,
                "week": f["week"].isoformat(),
                "computed_at": f["run"].computed_at.isoformat(),
                "method": f["run"].method,
                "expected": round(f["total"], 1),
                "recent": round(f["recent"], 1),
                "categories": [
                    {
                        "category": r["category"].code if r["category"] else None,
                        "name": r["category"].display_name if r["category"] else "",
                        "expected": round(r["expected"], 1),
                        "recent": round(r["recent"], 1),
                        "last_year": r["last_year"],
                        "rising": r["rising"],
                    }
                    for r in f["rows"]
                ],
                "weeks": [
                    {"week": w["week"].isoformat(), "expected": round(w["expected"], 1), "naive": w["naive"]}
                    for w in f["weeks"]
                ],
                "days": [{"day": d["day"].isoformat(), "expected": round(d["expected"], 1)} for d in f["days"]],
            }
        )
