from django.urls import path
from rest_framework.routers import SimpleRouter

from hotline.intake import api as intake_api
from hotline.search import api as search_api

router = SimpleRouter()
router.register("categories", intake_api.CategoryViewSet, basename="api-category")
router.register("knowledge", intake_api.KnowledgeArticleViewSet, basename="api-knowledge")
router.register("dispatch-rules", intake_api.DispatchRuleViewSet, basename="api-dispatch-rule")

urlpatterns = [
    path("intake/", intake_api.IntakeView.as_view(), name="api-intake"),
    path("intake/caller-history/", intake_api.CallerHistoryView.as_view(), name="api-intake-history"),
    path("intake/duplicates/", intake_api.DuplicatesView.as_view(), name="api-intake-duplicates"),
    path("intake/dispatch-preview/", intake_api.DispatchPreviewView.as_view(), name="api-intake-dispatch"),
    path("intake/today/", intake_api.TodayView.as_view(), name="api-intake-today"),
    path("search/", search_api.SearchView.as_view(), name="api-search"),
    path(
        "intake/category-suggestions/",
        intake_api.CategorySuggestionsView.as_view(),
        name="api-intake-category-suggestions",
    ),
    *router.urls,
]
