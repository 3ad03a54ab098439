from __future__ import annotations

from hotline.models import User


def unread_count(user: User) -> int:
    from workorders.models import Notification

    return Notification.objects.filter(user=user, read_at__isnull=True).count()
