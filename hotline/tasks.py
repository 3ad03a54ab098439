from celery import shared_task

from hotline import services


@shared_task(name="hotline.tasks.heartbeat", ignore_result=True)
def heartbeat() -> None:
    services.heartbeat_touch()


@shared_task(name="hotline.tasks.prune_login_failures", ignore_result=True)
def prune_login_failures() -> None:
    services.login_failures_prune()
