"""The admin's view of personal API tokens: who has one and since when, and revoking it.

Replaces DRF's TokenAdmin, which listed every key in full and let an administrator make a key for
any user (and then act as that user). Keys are stored as digests (hotline.accounts.tokens), so there
is nothing to read; adding and editing are refused, so the admin cannot mint one. A user makes
their own key on /account/token/ or at POST /api/v1/auth/token/.
"""

from django.contrib import admin
from rest_framework.authtoken.admin import TokenAdmin as DrfTokenAdmin
from rest_framework.authtoken.models import TokenProxy


class TokenAdmin(DrfTokenAdmin):
    list_display = ("user", "created")
    fields = ("user", "created")
    readonly_fields = ("user", "created")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def register(site: admin.AdminSite) -> None:
    if site.is_registered(TokenProxy):
        site.unregister(TokenProxy)
    site.register(TokenProxy, TokenAdmin)
