"""`{% load callback_tags %}{% order_exclusions order %}`: the exclusion panel for any order page
(the order detail, the callback page). Scoped to what the viewing user may see."""

from django import template

from hotline import access
from workorders.callbacks import selectors as callback_selectors
from workorders.lifecycle import actions

register = template.Library()


@register.inclusion_tag("callbacks/_exclusions_panel.html", takes_context=True)
def order_exclusions(context, order):
    user = context["request"].user
    return {
        "order": order,
        "exclusions": list(callback_selectors.exclusions_of_order(user=user, order=order)),
        # offered exactly as the transition accepts: the action table's row
        "may_request": "exclusion_request" in actions.permitted(order, user, desk=actions.EXCLUSION_DESK),
    }


@register.inclusion_tag("callbacks/_queue_panel.html", takes_context=True)
def callback_queue_panel(context, limit: int = 5):
    """The agent's home page panel "待回访": how many orders wait and the oldest few."""
    user = context["request"].user
    if not access.may(user, access.Cap.CALL_BACK):
        return {"allowed": False}
    queue = callback_selectors.callback_queue(user=user)
    return {"allowed": True, "count": queue.count(), "oldest": list(queue[:limit])}
