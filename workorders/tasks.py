"""Thin Celery tasks: take ids, call a service."""

from celery import shared_task

from workorders import notifications, sweep


@shared_task(name="workorders.tasks.deadline_sweep", ignore_result=True)
def deadline_sweep() -> dict:
    return sweep.run()


@shared_task(name="workorders.tasks.queue_outbound", ignore_result=True)
def queue_outbound() -> int:
    """Hand new notifications to delivery, batch after batch until a batch comes back short."""
    total = 0
    while (claimed := notifications.queue_outbound()) == notifications.QUEUE_BATCH:
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
    return notifications.deliver(ids)
