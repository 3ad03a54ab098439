from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from hotline import access
from hotline.models import Role

# (label, url name, roles that see it). Later capabilities add their entries here.
NAV_ITEMS = [
    (_("首页"), "home", None),
    (_("来电记录"), "call-list", {Role.AGENT, Role.STREET, Role.DISTRICT, Role.CITY}),
    (_("接口文档"), "swagger-ui", None),
]


def navigation(request):
    user = getattr(request, "user", None)
    role = access.role_of(user)
    if role is None:
        return {}
    items = []
    for label, name, roles in NAV_ITEMS:
        if roles is None or role in roles:
            url = reverse(name)
            items.append({"label": label, "url": url, "active": request.path == url})
    if access.can_use_admin(user):
        items.append({"label": _("系统管理"), "url": reverse("admin:index"), "active": False})
    return {"nav_items": items, "user_role": role}
