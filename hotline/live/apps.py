from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LiveConfig(AppConfig):
    name = "hotline.live"
    label = "live"
    verbose_name = _("实时更新")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from hotline.live import signals

        signals.connect_receivers()
