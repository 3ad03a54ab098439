from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from workorders.models import OrderSequence

_BUMP = f"UPDATE {OrderSequence._meta.db_table} SET last = last + 1 WHERE day = %s RETURNING last"


def next_order_number(now: datetime | None = None) -> str:
    """Date + six-digit sequence (20261122000042). One `UPDATE … SET last = last + 1 … RETURNING`
    inside the caller's transaction: the row lock it takes means two agents saving at the same
    moment can never get the same number, and it costs a single statement. The day's row is created
    once, by whoever comes first."""
    day = timezone.localdate(now)
    for _ in range(2):
        with connection.cursor() as cursor:
            cursor.execute(_BUMP, [day])
            row = cursor.fetchone()
        if row is not None:
            return f"{day:%Y%m%d}{row[0]:06d}"
        try:
            with transaction.atomic():
                OrderSequence.objects.create(day=day, last=0)
        except IntegrityError:
            pass  # another process created today's row first; the next loop bumps it
    raise RuntimeError("could not allocate an order number")
