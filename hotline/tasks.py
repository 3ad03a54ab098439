from celery import shared_task

from hotline.accounts import login
from hotline.web import health


@shared_task(name="hotline.tasks.heartbeat", ignore_result=True)
def heartbeat() -> None:
    health.heartbeat_touch()


@shared_task(name="hotline.tasks.prune_login_failures", ignore_result=True)
def prune_login_failures() -> None:
    login.login_failures_prune()
