from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet
from django.utils import timezone

from hotline import access
from hotline.models import User
from workorders.models import Notification, WorkOrder
from workorders.notifications.models import Delivery


def visible_notifications(user: User) -> QuerySet:
    """A user's notifications, without those about an order they may no longer see (reassigned to
    another section, sent to another unit): access ends with the order, not with the message.
    Notifications without an order (surges, rulings) stay."""
    still_visible = access.visible_orders(user, WorkOrder.objects.filter(pk=OuterRef("order_id")))
    return Notification.objects.filter(user=user).filter(Q(order_id__isnull=True) | Exists(still_visible))


def unread_count(user: User) -> int:
    return visible_notifications(user).filter(read_at__isnull=True).count()


def delivery_backlog() -> dict:
    """Outbound rows an operator should look at: failed (listed in the admin, retried there), due for
    more than five minutes, and how long the oldest due row has waited. `behind` is true once that
    age passes NOTIFY_BACKLOG_DEGRADED_SECONDS: the notifier is down or cannot keep up. One indexed
    aggregate over the rows still to do (delivery_to_do), however long the backlog."""
    now = timezone.now()
    waiting = Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now).aggregate(
        overdue=Count("id", filter=Q(next_attempt_at__lt=now - timedelta(minutes=5))),
        due=Count("id"),
        oldest=Min("next_attempt_at"),
    )
    age = int((now - waiting["oldest"]).total_seconds()) if waiting["oldest"] else 0
    return {
        "failed": Delivery.objects.filter(status=Delivery.Status.FAILED).count(),
        "overdue": waiting["overdue"],
        "due": waiting["due"],
        "oldest_due_seconds": age,
        "behind": age > settings.NOTIFY_BACKLOG_DEGRADED_SECONDS,
        "degraded_after_seconds": settings.NOTIFY_BACKLOG_DEGRADED_SECONDS,
    }
