from django import template

from hotline.models import Call
from workorders.handling.selectors import human_duration
from workorders.lifecycle.machinery import ContactMethod
from workorders.models import OrderState
from workorders.notifications import selectors

register = template.Library()


@register.inclusion_tag("workorders/_notification_badge.html", takes_context=True)
def notification_badge(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    return {"show": True, "unread": selectors.unread_count(user)}


@register.filter
def request_type_label(value: str) -> str:

    try:
        return Call.RequestType(value).label
    except ValueError:
        return value


@register.filter
def state_label(value: str) -> str:

    try:
        return OrderState(value).label
    except ValueError:
        return value or "—"


@register.filter
def method_label(value: str) -> str:

    return dict(ContactMethod.CHOICES).get(value, value)


@register.filter
def duration_label(value) -> str:
    """A timedelta as 2天3小时 / 3小时5分 / 12分钟."""
    return human_duration(value) if value is not None else "—"
