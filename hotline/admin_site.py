from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class HotlineAdminSite(admin.AdminSite):
    site_header = _("12345 接诉即办 · 系统管理")
    site_title = _("12345 系统管理")

    def has_permission(self, request) -> bool:
        # The admin edits city-wide reference data (categories, rules, aliases, accounts):
        # only the city center's administrators may enter, whatever their staff flag says.
        from hotline.access import can_use_admin

        return can_use_admin(request.user)
