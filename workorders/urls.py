"""Pages of the work order's desks: handling (inbox, order page, supervision), notifications, callbacks
and exclusions."""

from django.urls import path

from workorders.callbacks import views as callbacks_views
from workorders.handling import views as handling_views
from workorders.notifications import views as notifications_views

urlpatterns = [
    path("orders/", handling_views.inbox, name="order-inbox"),
    path("orders/poll.json", handling_views.poll, name="order-poll"),
    path("orders/supervision/", handling_views.supervision, name="order-supervision"),
    path("orders/sections/", handling_views.sections, name="order-sections"),
    path("orders/bulk/sign/", handling_views.bulk_sign, name="order-bulk-sign"),
    path("orders/approvals/decide/", handling_views.approvals_decide, name="order-approvals-decide"),
    path("orders/filters/", handling_views.saved_filter_save, name="order-filter-save"),
    path("orders/filters/<int:pk>/delete/", handling_views.saved_filter_delete, name="order-filter-delete"),
    path("orders/sections/scorecard/", handling_views.scorecard, name="order-scorecard"),
    path("orders/attachments/<int:pk>/", handling_views.attachment_download, name="order-attachment"),
    path("orders/<int:pk>/", handling_views.order_detail, name="order-detail"),
    path("orders/<int:pk>/print/", handling_views.order_print, name="order-print"),
    path("orders/<int:pk>/<slug:action>/", handling_views.order_action, name="order-action"),
    path("notifications/", notifications_views.notification_list, name="notification-list"),
    path("notifications/<int:pk>/open/", notifications_views.notification_open, name="notification-open"),
    # callback stage: callbacks, the citizen's self-evaluation, exclusions
    path("callbacks/", callbacks_views.callback_queue, name="callback-queue"),
    path("callbacks/<int:pk>/", callbacks_views.callback_detail, name="callback-detail"),
    path("callbacks/<int:pk>/attempt/", callbacks_views.callback_attempt, name="callback-attempt"),
    path("callbacks/<int:pk>/record/", callbacks_views.callback_record, name="callback-record"),
    path("callbacks/<int:pk>/self-link/", callbacks_views.callback_self_link, name="callback-self-link"),
    path("callbacks/<int:pk>/send-back/", callbacks_views.callback_send_back, name="callback-send-back"),
    # The citizen's page: public, reached only through the signed link.
    path("e/<str:token>/", callbacks_views.self_evaluation, name="self-evaluation"),
    path("exclusions/", callbacks_views.exclusion_list, name="exclusion-list"),
    path("exclusions/new/", callbacks_views.exclusion_new, name="exclusion-new"),
    path("exclusions/<int:pk>/", callbacks_views.exclusion_detail, name="exclusion-detail"),
    path("exclusions/<int:pk>/decide/", callbacks_views.exclusion_decide, name="exclusion-decide"),
    path("exclusions/<int:pk>/revoke/", callbacks_views.exclusion_revoke, name="exclusion-revoke"),
    path("exclusions/evidence/<int:pk>/", callbacks_views.exclusion_evidence, name="exclusion-evidence"),
]
