from celery import shared_task

from hotline import services


@shared_task(name="hotline.tasks.heartbeat", ignore_result=True)
def heartbeat() -> None:
    services.heartbeat_touch()
