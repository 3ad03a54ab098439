from __future__ import annotations

from hotline.models import User
from workorders.models import Notification


def unread_count(user: User) -> int:

    return Notification.objects.filter(user=user, read_at__isnull=True).count()
