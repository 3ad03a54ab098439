from celery import shared_task
from django.conf import settings

from hotline.accounts import login
from hotline.intake import sms
from hotline.web import health


@shared_task(name="hotline.tasks.heartbeat", ignore_result=True)
def heartbeat() -> None:
    health.heartbeat_touch()


@shared_task(name="hotline.tasks.prune_login_failures", ignore_result=True)
def prune_login_failures() -> None:
    login.login_failures_prune()


@shared_task(name="hotline.tasks.send_sms", ignore_result=True, bind=True, max_retries=5)
def send_sms(self, message_id: int) -> str:
    final = self.request.retries >= self.max_retries
    try:
        return sms.sms_deliver(message_id, final=final)
    except sms.SmsError as exc:
        if final:
            return "failed"
        raise self.retry(exc=exc, countdown=min(settings.SMS_RETRY_SECONDS * 2**self.request.retries, 1800)) from None
