from django.urls import include, path
from rest_framework.routers import SimpleRouter

from assessment.rankings import api

router = SimpleRouter()
router.register("assessment/rulesets", api.RuleSetViewSet, basename="api-assessment-ruleset")
router.register("assessment/snapshots", api.SnapshotViewSet, basename="api-assessment-snapshot")
router.register("assessment/reports", api.ReportViewSet, basename="api-assessment-report")

urlpatterns = [
    path("assessment/rankings/", api.RankingView.as_view(), name="api-assessment-rankings"),
    path("assessment/rates/", api.RatesView.as_view(), name="api-assessment-rates"),
    path("assessment/orders/", api.OrdersBehindView.as_view(), name="api-assessment-orders"),
    path("", include(router.urls)),
]
