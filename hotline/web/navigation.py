"""The top bar: one entry per capability, shown exactly when access.GATES lets the user use it."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from hotline import access
from hotline.access import Cap

# (label, url name, capability or None for every signed-in user), in the order shown.
NAV_ITEMS = [
    (_("首页"), "home", None),
    (_("受理来电"), "intake", Cap.TAKE_CALLS),
    (_("工单办理"), "order-inbox", Cap.ORDERS),
    (_("区级督办"), "order-supervision", Cap.SUPERVISE),
    (_("回访"), "callback-queue", Cap.CALL_BACK),
    (_("剔除审核"), "exclusion-list", Cap.EXCLUSIONS),
    (_("考核排名"), "assessment-index", Cap.ASSESSMENT),
    (_("考核看板"), "assessment-dashboard", Cap.ASSESSMENT_MANAGE),
    (_("主动治理"), "assessment-governance", Cap.ASSESSMENT_MANAGE),
    (_("趋势预测"), "assessment-forecasts", Cap.FORECASTS),
    (_("坐席测算"), "assessment-staffing", Cap.STAFFING),
    (_("来电记录"), "call-list", Cap.CALLS),
    (_("别名审核"), "alias-proposals", Cap.REVIEW_ALIASES),
    (_("接口文档"), "swagger-ui", None),
]


def navigation(request):
    user = getattr(request, "user", None)
    role = access.role_of(user)
    if role is None:
        return {}
    items = []
    for label, name, capability in NAV_ITEMS:
        if capability is None or access.may(user, capability):
            url = reverse(name)
            items.append({"label": label, "url": url, "active": request.path == url})
    if access.can_use_admin(user):
        items.append({"label": _("系统管理"), "url": reverse("admin:index"), "active": False})
    # Templates decide what to show from the viewer's capabilities (`{% if caps.supervise %}`),
    # never from a role string: the rule stays in access.GATES.
    return {"nav_items": items, "caps": capabilities(user)}


def capabilities(user) -> dict[str, bool]:
    """Every capability of access.Cap → whether this user has it (no queries: roles and sections)."""
    return {cap: access.may(user, cap) for cap in access.GATES}
