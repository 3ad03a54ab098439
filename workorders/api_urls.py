from django.urls import include, path
from rest_framework.routers import SimpleRouter

from workorders.callbacks import api as callbacks_api
from workorders.handling import api as handling_api
from workorders.notifications import api as notifications_api

router = SimpleRouter()
router.register("orders", handling_api.OrderViewSet, basename="api-order")
router.register("notifications", notifications_api.NotificationViewSet, basename="api-notification")
router.register("callbacks", callbacks_api.CallbackViewSet, basename="api-callback")
router.register("exclusions", callbacks_api.ExclusionViewSet, basename="api-exclusion")

urlpatterns = [path("", include(router.urls))]
