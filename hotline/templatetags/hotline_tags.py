from django import template
from django.urls import reverse
from django.utils.html import format_html

from hotline.models import SmsMessage
from hotline.privacy import mask_phone as _mask_phone

register = template.Library()


@register.filter
def mask_phone(value: str) -> str:
    return _mask_phone(value)


@register.simple_tag
def order_link(order, linkable=None):
    """The order's number as a link to its page. `linkable`: the ids of orders the viewer may open
    (computed once per list with access.visible_orders), or None when the list is already scoped
    by it; a number the viewer may not open stays plain text."""
    if order is None:
        return ""
    if linkable is not None and order.pk not in linkable:
        return format_html('<span class="mono">{}</span>', order.number)
    return format_html(
        '<a class="mono" href="{}" data-testid="order-link">{}</a>',
        reverse("order-detail", args=[order.pk]),
        order.number,
    )


@register.simple_tag
def sms_messages(order):
    """The text messages recorded on an order, newest first."""
    return list(SmsMessage.objects.filter(order=order).select_related("created_by")[:20])


@register.simple_tag(takes_context=True)
def caller_of(context, call, address=None):
    """`{% caller_of call [address] as cv %}`: the caller as the viewer may see them (保密工单:
    hotline.privacy.caller_view) — cv.hidden, cv.name, cv.phone, cv.address, cv.note."""
    from hotline.privacy import caller_view

    request = context.get("request")
    return caller_view(getattr(request, "user", None), call, address)
