from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from workorders.models import OrderSequence


def next_order_number(now: datetime | None = None) -> str:
    """Date + six-digit sequence (20261122000042). The per-day counter row is bumped with an
    UPDATE … SET last = last + 1 inside the caller's transaction, so two agents saving at the same
    moment can never get the same number."""
    day = timezone.localdate(now)
    for _ in range(2):
        with transaction.atomic():
            updated = OrderSequence.objects.filter(day=day).update(last=F("last") + 1)
            if updated:
                last = OrderSequence.objects.values_list("last", flat=True).get(day=day)
                return f"{day:%Y%m%d}{last:06d}"
        try:
            with transaction.atomic():
                OrderSequence.objects.create(day=day, last=0)
        except IntegrityError:
            pass  # another process created today's row first; the next loop bumps it
    raise RuntimeError("could not allocate an order number")
