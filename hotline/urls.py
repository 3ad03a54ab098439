from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from districts import api as districts_api
from districts.routing_api import RouteView
from hotline import api as hotline_api
from hotline import views

router = DefaultRouter()
router.register("calls", hotline_api.CallViewSet, basename="api-call")
router.register("divisions", districts_api.DivisionViewSet, basename="api-division")
router.register("units", districts_api.UnitViewSet, basename="api-unit")
router.register("aliases", districts_api.AliasViewSet, basename="api-alias")


# Each app adds its own endpoints in `<app>/api_urls.py` (a list `urlpatterns`) and its pages in
# `<app>/urls.py`; both are included here when present.
def _optional(module_name: str) -> list:
    import importlib

    try:
        return importlib.import_module(module_name).urlpatterns
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        return []


api_urls = [
    *_optional("hotline.intake_api_urls"),
    *_optional("workorders.api_urls"),
    *_optional("workorders.callback_api_urls"),
    *_optional("assessment.api_urls"),
    path("", include(router.urls)),
    path("me/", hotline_api.me, name="api-me"),
    path("route/", RouteView.as_view(), name="api-route"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("calls/", views.call_list, name="call-list"),
    path("calls/<int:pk>/reveal-phone/", views.call_reveal_phone, name="call-reveal-phone"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    *_optional("hotline.intake_urls"),
    *_optional("workorders.urls"),
    *_optional("workorders.callback_urls"),
    *_optional("assessment.urls"),
    path("api/v1/", include(api_urls)),
]
