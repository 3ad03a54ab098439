from django.urls import path

from assessment.dashboards import views as dashboards_views
from assessment.forecasts import views as forecast_views
from assessment.governance import views as governance_views
from assessment.rankings import views as rankings_views

urlpatterns = [
    path("assessment/", rankings_views.index, name="assessment-index"),
    path("assessment/rankings/streets/", rankings_views.district_streets, name="assessment-district-streets"),
    path("assessment/rankings/streets/city/", rankings_views.city_streets, name="assessment-city-streets"),
    path("assessment/rankings/districts/", rankings_views.districts, name="assessment-districts"),
    path("assessment/rankings/departments/", rankings_views.departments, name="assessment-departments"),
    path(
        "assessment/rankings/<str:scope>.<str:fmt>",
        rankings_views.export_ranking,
        name="assessment-export-ranking",
    ),
    path("assessment/units/<int:unit_id>/", rankings_views.scorecard, name="assessment-scorecard"),
    path("assessment/orders/", rankings_views.orders, name="assessment-orders"),
    path("assessment/orders.<str:fmt>", rankings_views.export_orders, name="assessment-export-orders"),
    path("assessment/snapshots/", rankings_views.snapshot_list, name="assessment-snapshots"),
    path("assessment/snapshots/action/", rankings_views.snapshot_action, name="assessment-snapshot-action"),
    path("assessment/snapshots/<int:pk>/", rankings_views.snapshot_detail, name="assessment-snapshot"),
    path("assessment/rules/", rankings_views.rules, name="assessment-rules"),
    path("assessment/dashboard/", dashboards_views.dashboard, name="assessment-dashboard"),
    path("assessment/dashboard/data/", dashboards_views.dashboard_data, name="assessment-dashboard-data"),
    path("assessment/governance/", governance_views.governance, name="assessment-governance"),
    path("assessment/governance/orders/", governance_views.orders, name="assessment-governance-orders"),
    path("assessment/governance/calls/", governance_views.calls, name="assessment-governance-calls"),
    path("assessment/reports/", governance_views.reports, name="assessment-reports"),
    path("assessment/reports/<int:pk>/download/", governance_views.report_download, name="assessment-report-download"),
    path("assessment/topics/", governance_views.topics, name="assessment-topics"),
    path("assessment/forecasts/", forecast_views.forecasts, name="assessment-forecasts"),
    path("assessment/forecasts/staffing/", forecast_views.staffing, name="assessment-staffing"),
    path("api/v1/assessment/forecasts/", forecast_views.ForecastApi.as_view(), name="api-assessment-forecasts"),
]
