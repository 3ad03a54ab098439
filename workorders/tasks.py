"""Thin Celery tasks: take ids, call a service. Scheduled by the one beat schedule in
hotline/config/settings/worker.py; the explicit names are what beat and queued messages refer to."""

from celery import shared_task

from workorders.lifecycle import self_evaluations, sweep
from workorders.notifications import delivery, outbox


@shared_task(name="workorders.tasks.deadline_sweep", ignore_result=True)
def deadline_sweep() -> dict:
    return sweep.run()


@shared_task(name="workorders.tasks.queue_outbound", ignore_result=True)
def queue_outbound() -> int:
    """Hand new notifications to delivery, batch after batch until a batch comes back short."""
    total = 0
    while (claimed := outbox.queue_outbound()) == outbox.QUEUE_BATCH:
        total += claimed
    return total + claimed


@shared_task(
    name="workorders.tasks.deliver_notifications",
    ignore_result=True,
    bind=True,
    max_retries=8,
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_backoff_max=1800,
    retry_jitter=True,
)
def deliver_notifications(self, ids: list[int]) -> int:
    return delivery.deliver(ids)


# Named after the module it lived in before the layout by capability: messages already queued under
# that name must still find it.
@shared_task(name="workorders.callback_tasks.purge_self_evaluation_links", ignore_result=True)
def purge_self_evaluation_links() -> int:
    return self_evaluations.self_evaluation_links_purge()
