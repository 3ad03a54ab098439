"""Call intake pages: the agent's workspace, the call list, and the Open311 GeoReport v2 endpoints."""

from django.urls import path

from hotline.intake import open311, sessions
from hotline.intake import views as intake_views
from hotline.search import views as search_views

urlpatterns = [
    path("intake/", intake_views.workspace, name="intake"),
    path("intake/keepalive/", sessions.keepalive, name="intake-keepalive"),
    path("search/", search_views.search, name="search"),
    path(
        "callbacks/<int:pk>/self-link/<int:link_pk>/sms/",
        intake_views.self_evaluation_sms,
        name="self-evaluation-sms",
    ),
    path("calls/", intake_views.call_list, name="call-list"),
    path("calls/<int:pk>/reveal-phone/", intake_views.call_reveal_phone, name="call-reveal-phone"),
    path("open311/v2/discovery.<str:fmt>", open311.discovery, name="open311-discovery"),
    path("open311/v2/services.<str:fmt>", open311.services, name="open311-services"),
    path("open311/v2/services/<str:code>.<str:fmt>", open311.service_definition, name="open311-service"),
    path("open311/v2/requests.<str:fmt>", open311.requests_view, name="open311-requests"),
    path("open311/v2/requests/<str:request_id>.<str:fmt>", open311.request_detail, name="open311-request"),
]
