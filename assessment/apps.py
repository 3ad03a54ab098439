from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentConfig(AppConfig):
    name = "assessment"
    verbose_name = _("考核评价")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The beat schedule is read when beat starts (after Django is set up), so the app adds its
        # periodic tasks here instead of in the shared settings file.
        from django.conf import settings

        from assessment.tasks import BEAT_SCHEDULE

        for name, entry in BEAT_SCHEDULE.items():
            settings.CELERY_BEAT_SCHEDULE.setdefault(name, entry)
