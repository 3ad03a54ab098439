from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from hotline import access
from hotline.models import User
from workorders.models import Notification, WorkOrder


def visible_notifications(user: User) -> QuerySet:
    """A user's notifications, without those about an order they may no longer see (reassigned to
    another section, sent to another unit): access ends with the order, not with the message.
    Notifications without an order (surges, rulings) stay."""
    still_visible = access.visible_orders(user, WorkOrder.objects.filter(pk=OuterRef("order_id")))
    return Notification.objects.filter(user=user).filter(Q(order_id__isnull=True) | Exists(still_visible))


def unread_count(user: User) -> int:
    return visible_notifications(user).filter(read_at__isnull=True).count()
