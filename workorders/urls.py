from django.urls import path

from workorders import views

urlpatterns = [
    path("orders/", views.inbox, name="order-inbox"),
    path("orders/poll.json", views.poll, name="order-poll"),
    path("orders/supervision/", views.supervision, name="order-supervision"),
    path("orders/attachments/<int:pk>/", views.attachment_download, name="order-attachment"),
    path("orders/<int:pk>/", views.order_detail, name="order-detail"),
    path("orders/<int:pk>/<slug:action>/", views.order_action, name="order-action"),
    path("notifications/", views.notification_list, name="notification-list"),
    path("notifications/<int:pk>/open/", views.notification_open, name="notification-open"),
]
