from celery import shared_task

from assessment.forecasts import services


@shared_task(name="assessment.forecasts.tasks.compute_forecasts")
def compute_forecasts() -> int | None:
    run = services.forecast_compute()
    return run.pk if run else None
