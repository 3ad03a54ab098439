from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class HotlineConfig(AppConfig):
    name = "hotline"
    verbose_name = _("热线受理")
    default_auto_field = "django.db.models.BigAutoField"


class HotlineAdminConfig(AdminConfig):
    default_site = "hotline.accounts.admin_site.HotlineAdminSite"
