from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from hotline.models import User
from workorders.models import Notification


def notifications_mark_read(*, acting_user: User, ids: list[int] | None = None) -> int:
    qs: QuerySet = Notification.objects.filter(user=acting_user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
