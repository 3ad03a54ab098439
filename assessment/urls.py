from django.urls import path

from assessment import governance_views, views

urlpatterns = [
    path("assessment/", views.index, name="assessment-index"),
    path("assessment/rankings/streets/", views.district_streets, name="assessment-district-streets"),
    path("assessment/rankings/streets/city/", views.city_streets, name="assessment-city-streets"),
    path("assessment/rankings/districts/", views.districts, name="assessment-districts"),
    path("assessment/rankings/departments/", views.departments, name="assessment-departments"),
    path(
        "assessment/rankings/<str:scope>.<str:fmt>",
        views.export_ranking,
        name="assessment-export-ranking",
    ),
    path("assessment/units/<int:unit_id>/", views.scorecard, name="assessment-scorecard"),
    path("assessment/orders/", views.orders, name="assessment-orders"),
    path("assessment/orders.<str:fmt>", views.export_orders, name="assessment-export-orders"),
    path("assessment/snapshots/", views.snapshot_list, name="assessment-snapshots"),
    path("assessment/snapshots/action/", views.snapshot_action, name="assessment-snapshot-action"),
    path("assessment/snapshots/<int:pk>/", views.snapshot_detail, name="assessment-snapshot"),
    path("assessment/rules/", views.rules, name="assessment-rules"),
    path("assessment/dashboard/", views.dashboard, name="assessment-dashboard"),
    path("assessment/dashboard/data/", views.dashboard_data, name="assessment-dashboard-data"),
    path("assessment/governance/", governance_views.governance, name="assessment-governance"),
    path("assessment/reports/", governance_views.reports, name="assessment-reports"),
    path("assessment/reports/<int:pk>/download/", governance_views.report_download, name="assessment-report-download"),
    path("assessment/topics/", governance_views.topics, name="assessment-topics"),
]
