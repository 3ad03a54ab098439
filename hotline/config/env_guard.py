import sys

from django.conf import settings

from hotline.config.env import ConfigError


def load_settings_or_exit() -> None:
    """Load Django settings now; a bad environment ends the process with one clear line instead of
    a traceback in the first request or task that touches settings."""
    try:
        settings.INSTALLED_APPS  # noqa: B018 - touching it loads the settings module
    except ConfigError as exc:
        sys.stderr.write(f"Configuration error: {exc}\n")
        sys.exit(2)
