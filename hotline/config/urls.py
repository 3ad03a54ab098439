"""The URL map: the site's own pages, then each app's pages and API, listed explicitly."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from assessment import api_urls as assessment_api_urls
from assessment import urls as assessment_urls
from districts import api as districts_api
from districts import urls as districts_urls
from districts.routing_api import RouteView
from hotline.accounts import tokens as accounts_tokens
from hotline.accounts import views as accounts_views
from hotline.intake import api as intake_api
from hotline.intake import api_urls as intake_api_urls
from hotline.intake import urls as intake_urls
from hotline.live import views as live_views
from hotline.web import api as web_api
from hotline.web import health
from hotline.web import views as web_views
from workorders import api_urls as workorders_api_urls
from workorders import urls as workorders_urls

# The browsable API root lists these.
router = DefaultRouter()
router.register("calls", intake_api.CallViewSet, basename="api-call")
router.register("divisions", districts_api.DivisionViewSet, basename="api-division")
router.register("units", districts_api.UnitViewSet, basename="api-unit")
router.register("aliases", districts_api.AliasViewSet, basename="api-alias")


api_urls = [
    *intake_api_urls.urlpatterns,
    *districts_urls.api_urlpatterns,
    *workorders_api_urls.urlpatterns,
    *assessment_api_urls.urlpatterns,
    path("", include(router.urls)),
    path("me/", web_api.me, name="api-me"),
    path("me/token/", accounts_tokens.token_revoke_api, name="api-token-revoke"),
    path("auth/token/", accounts_tokens.token_obtain, name="api-token"),
    path("route/", RouteView.as_view(), name="api-route"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),  # no inline script (CSP)
]

# The application's own error answers (hotline.web.errors): a translated page with a way back for
# people, JSON under /api/ and /open311/; a database outage answers 503, never a 500 page.
handler403 = "hotline.web.errors.permission_denied"
handler404 = "hotline.web.errors.page_not_found"
handler500 = "hotline.web.errors.server_error"

urlpatterns = [
    path("", web_views.home, name="home"),
    path("login/", accounts_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", health.ready, name="healthz"),
    path("healthz/ready", health.ready, name="healthz-ready"),
    path("healthz/live", health.live, name="healthz-live"),
    path("live/stream", live_views.stream, name="live-stream"),
    path("account/token/", accounts_tokens.token_page, name="account-token"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    *intake_urls.urlpatterns,
    *districts_urls.urlpatterns,
    *workorders_urls.urlpatterns,
    *assessment_urls.urlpatterns,
    path("api/v1/", include(api_urls)),
]
