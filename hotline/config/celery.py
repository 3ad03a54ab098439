import functools
import os

import redis
from celery import Celery
from django.conf import settings
from kombu.transport import redis as kombu_redis

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


# --- surviving a broker outage ----------------------------------------------------------------------
# When Redis drops while tasks are unacknowledged, Celery 5.7 / kombu 5.7 detach the transport from the
# broken connection, then still use its channel: to push the unacknowledged messages back on close,
# and to acknowledge a task that finishes after the reconnect. Both fail on the detached client with
# an AttributeError, which Celery takes for an unrecoverable error: the worker stops consuming for
# good (issue 27: the notifier "exits"). Raised as what it is — the connection is gone — kombu and
# Celery handle it like any other connection loss: the close goes on, the late ack is logged, the
# consumer reconnects. Nothing is lost by skipping them: Redis re-delivers unacknowledged messages
# after the visibility timeout if it kept them, and deliveries do not depend on that (their claims
# are re-dispatched after NOTIFY_CLAIM_STALE_SECONDS; a late message finds its claim gone).
def _connparams_or_connection_lost(connparams):
    @functools.wraps(connparams)
    def guarded(self, *args, **kwargs):
        if self.connection is None or self.connection.client is None:
            raise redis.ConnectionError("the broker connection was closed (channel of a lost connection)")
        return connparams(self, *args, **kwargs)

    guarded.hotline_guarded = True
    return guarded


if not getattr(kombu_redis.Channel._connparams, "hotline_guarded", False):
    kombu_redis.Channel._connparams = _connparams_or_connection_lost(kombu_redis.Channel._connparams)
