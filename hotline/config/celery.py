import os

from celery import Celery

from hotline.config.env_guard import load_settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.config.settings")
load_settings_or_exit()

app = Celery("hotline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
