from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from districts import selectors as division_selectors
from hotline import access
from hotline.intake import selectors as intake_selectors
from hotline.models import Role
from hotline.web import selectors as web_selectors
from workorders.handling.selectors import inbox_counts

HOME_TEMPLATES = {
    Role.AGENT: "home/agent.html",
    Role.STREET: "home/street.html",
    Role.DEPARTMENT: "home/department.html",
    Role.DISTRICT: "home/district.html",
    Role.CITY: "home/city.html",
}


@login_required
def home(request):
    role = access.role_of(request.user)
    if role is None:
        return render(request, "home/no_role.html", status=403)
    context = {
        "today_calls": intake_selectors.intake_today(user=request.user)["calls"],
        "recent_calls": intake_selectors.calls_recent(user=request.user),
        "unit": request.user.unit,
    }
    if access.may(request.user, access.Cap.HANDLE):
        context["desk"] = inbox_counts(request.user)
    if role == Role.DISTRICT:
        context["streets"] = division_selectors.streets_of_district(request.user.unit.division)
        context["approvals"] = web_selectors.approvals_waiting(user=request.user)
    if role == Role.CITY:
        context["districts"] = division_selectors.districts_with_counts()
    return render(request, HOME_TEMPLATES[role], context)
