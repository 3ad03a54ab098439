"""Settings, all read from the environment (see README "Configuration").

`base` holds Django and the product's own settings, `worker` Celery's (broker, queue, the beat
schedule). No variables at all gives the embedded default: a SQLite file under var/ and Celery on
kombu's filesystem transport, also under var/, so `make run` needs no database or broker server.
DATABASE_URL / CELERY_BROKER_URL switch to PostgreSQL and Redis.
"""

from hotline.config.settings.base import *  # noqa: F403
from hotline.config.settings.worker import *  # noqa: F403
