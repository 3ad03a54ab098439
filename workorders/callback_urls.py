from django.urls import path

from workorders import callback_views as views

urlpatterns = [
    path("callbacks/", views.callback_queue, name="callback-queue"),
    path("callbacks/<int:pk>/", views.callback_detail, name="callback-detail"),
    path("callbacks/<int:pk>/attempt/", views.callback_attempt, name="callback-attempt"),
    path("callbacks/<int:pk>/record/", views.callback_record, name="callback-record"),
    path("callbacks/<int:pk>/self-link/", views.callback_self_link, name="callback-self-link"),
    path("callbacks/<int:pk>/send-back/", views.callback_send_back, name="callback-send-back"),
    # The citizen's page: public, reached only through the signed link.
    path("e/<str:token>/", views.self_evaluation, name="self-evaluation"),
    path("exclusions/", views.exclusion_list, name="exclusion-list"),
    path("exclusions/new/", views.exclusion_new, name="exclusion-new"),
    path("exclusions/<int:pk>/", views.exclusion_detail, name="exclusion-detail"),
    path("exclusions/<int:pk>/decide/", views.exclusion_decide, name="exclusion-decide"),
    path("exclusions/<int:pk>/revoke/", views.exclusion_revoke, name="exclusion-revoke"),
    path("exclusions/evidence/<int:pk>/", views.exclusion_evidence, name="exclusion-evidence"),
]
