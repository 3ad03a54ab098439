from django.apps import AppConfig


class ForecastsConfig(AppConfig):
    name = "assessment.forecasts"
    label = "forecasts"
    verbose_name = "预测与排班"
    default_auto_field = "django.db.models.BigAutoField"
