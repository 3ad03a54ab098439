import os

from django.core.asgi import get_asgi_application

from hotline.config.env_guard import load_settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.config.settings")
load_settings_or_exit()
application = get_asgi_application()
