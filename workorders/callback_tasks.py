"""Celery tasks of the callback stage: thin, they call a service. Registered through
CELERY_IMPORTS (autodiscovery only looks at tasks.py)."""

from celery import shared_task

from workorders import callbacks


@shared_task(name="workorders.callback_tasks.purge_self_evaluation_links", ignore_result=True)
def purge_self_evaluation_links() -> int:
    return callbacks.self_evaluation_links_purge()
