import os

from django.core.wsgi import get_wsgi_application

from hotline.env_guard import load_settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")
load_settings_or_exit()
application = get_wsgi_application()
