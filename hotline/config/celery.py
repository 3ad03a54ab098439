import os

from celery import Celery
from django.conf import settings

from hotline.config.env_guard import load_settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.config.settings")
load_settings_or_exit()

app = Celery("hotline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# Tasks that wait on the outside world (e-mail, webhooks) run on their own queue.
NOTIFY_TASKS = {"workorders.tasks.queue_outbound", "workorders.tasks.deliver_outbound"}


def notify_queue() -> str:
    return getattr(settings, "CELERY_NOTIFY_QUEUE", "") or f"{app.conf.task_default_queue}.notify"


def route_task(name, args, kwargs, options, task=None, **kw):
    if name in NOTIFY_TASKS:
        return {"queue": notify_queue()}
    return None
