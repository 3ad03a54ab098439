from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DistrictsConfig(AppConfig):
    name = "districts"
    verbose_name = _("行政区划与单位")
    default_auto_field = "django.db.models.BigAutoField"
