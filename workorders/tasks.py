"""Thin Celery tasks: take ids, call a service. Scheduled by the one beat schedule in
hotline/config/settings/worker.py; the explicit names are what beat and queued messages refer to."""

from celery import shared_task

from workorders.lifecycle import self_evaluations, sweep
from workorders.models import Notification
from workorders.notifications import delivery, outbox


@shared_task(name="workorders.tasks.deadline_sweep", ignore_result=True)
def deadline_sweep() -> dict:
    return sweep.run()


@shared_task(name="workorders.tasks.queue_outbound", ignore_result=True)
def queue_outbound() -> int:
    """Write outbox rows for new notifications, batch after batch until a batch comes back short,
    then start delivery of the due rows."""
    total = 0
    while (claimed := outbox.queue_outbound()) == outbox.QUEUE_BATCH:
        total += claimed
    outbox.dispatch()
    return total + claimed


@shared_task(name="workorders.tasks.deliver_outbound", ignore_result=True)
def deliver_outbound(target: str, token: str) -> int:
    """Send one target's claimed outbox rows (runs on the delivery queue; see delivery.py)."""
    return delivery.deliver_claimed(target, token)


@shared_task(name="workorders.tasks.deliver_notifications", ignore_result=True)
def deliver_notifications(ids: list[int]) -> int:
    """Messages queued before the outbox: their notifications were looked at but never got rows.
    Hand them back to queue_outbound, which writes the rows (each target once)."""
    return Notification.objects.filter(pk__in=ids, sent_at__isnull=True).update(queued_at=None)


@shared_task(name="workorders.tasks.prune_deliveries", ignore_result=True)
def prune_deliveries() -> int:
    return delivery.prune_sent()


# Named after the module it lived in before the layout by capability: messages already queued under
# that name must still find it.
@shared_task(name="workorders.callback_tasks.purge_self_evaluation_links", ignore_result=True)
def purge_self_evaluation_links() -> int:
    return self_evaluations.self_evaluation_links_purge()
