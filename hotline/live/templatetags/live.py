from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def live_script(context):
    """The live-update script for a signed-in user's page (static/js/live.js)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    from django.templatetags.static import static

    return format_html(
        '<script src="{}" data-live-url="{}" data-live-port="{}" data-poll-url="{}"></script>',
        static("js/live.js"),
        reverse("live-stream"),
        settings.LIVE_PORT or "",
        reverse("order-poll"),
    )
