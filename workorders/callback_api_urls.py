from rest_framework.routers import SimpleRouter

from workorders import callback_api

router = SimpleRouter()
router.register("callbacks", callback_api.CallbackViewSet, basename="api-callback")
router.register("exclusions", callback_api.ExclusionViewSet, basename="api-exclusion")

urlpatterns = router.urls
