from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from hotline import access
from hotline.models import Role

# (label, url name, roles that see it, order). Each app may add entries in its own `nav.py`
# as NAV_ITEMS in the same shape; they are merged here and sorted by order.
NAV_ITEMS = [
    (_("首页"), "home", None, 0),
    (_("来电记录"), "call-list", {Role.AGENT, Role.STREET, Role.DISTRICT, Role.CITY}, 80),
    (_("接口文档"), "swagger-ui", None, 90),
]
NAV_APPS = ["hotline.intake_nav", "workorders.nav", "workorders.callback_nav", "assessment.nav"]


def _all_items():
    import importlib

    items = list(NAV_ITEMS)
    for module_name in NAV_APPS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        items.extend(module.NAV_ITEMS)
    return sorted(items, key=lambda item: item[3])


def navigation(request):
    user = getattr(request, "user", None)
    role = access.role_of(user)
    if role is None:
        return {}
    items = []
    for label, name, roles, _order in _all_items():
        if roles is None or role in roles:
            url = reverse(name)
            items.append({"label": label, "url": url, "active": request.path == url})
    if access.can_use_admin(user):
        items.append({"label": _("系统管理"), "url": reverse("admin:index"), "active": False})
    return {"nav_items": items, "user_role": role}
