import gc
import os

from django.core.wsgi import get_wsgi_application

from hotline.config.env_guard import load_settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.config.settings")
load_settings_or_exit()
application = get_wsgi_application()
# Everything loaded so far lives as long as the process: keep it out of the cyclic garbage
# collector's scans (and, under gunicorn --preload, shared copy-on-write with the workers).
gc.freeze()
