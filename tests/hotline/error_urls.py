"""The real URL map plus a view that fails, for the 500 page tests."""

from django.urls import path

from hotline.config.urls import handler403, handler404, handler500, urlpatterns  # noqa: F401


def boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom), path("api/v1/boom/", boom), *urlpatterns]
