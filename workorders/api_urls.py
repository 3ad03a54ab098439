from django.urls import include, path
from rest_framework.routers import SimpleRouter

from workorders import api

router = SimpleRouter()
router.register("orders", api.OrderViewSet, basename="api-order")
router.register("notifications", api.NotificationViewSet, basename="api-notification")

urlpatterns = [path("", include(router.urls))]
