#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.config.settings")
    # hotline/__init__ imports the Celery app, which loads the settings and exits with one clear
    # line if the environment is wrong.
    from django.core.management import execute_from_command_line

    import hotline  # noqa: F401

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
