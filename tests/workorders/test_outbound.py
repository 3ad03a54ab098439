import pytest

from tests.factories import UserFactory, unit
from workorders.models import Notification
from workorders.notifications import outbox

pytestmark = pytest.mark.django_db


def test_notify_units_writes_one_row_per_active_member_in_one_statement(django_assert_num_queries):
    xiluoyuan = unit("110106003")
    active = UserFactory(role="street", unit=xiluoyuan)
    gone = UserFactory(role="street", unit=xiluoyuan, is_active=False)
    elsewhere = UserFactory(role="street", unit=unit("110106001"))
    with django_assert_num_queries(1):
        count = outbox.notify_units(units=[xiluoyuan], kind="whistle", title="吹哨：" + "长" * 300, body="正文")
    assert count == 1
    note = Notification.objects.get()
    assert note.user == active and note.kind == "whistle" and note.body == "正文"
    assert len(note.title) == 200 and note.queued_at is None and note.sent_at is None
    assert not Notification.objects.filter(user__in=[gone, elsewhere]).exists()


def test_notify_units_can_keep_to_some_roles():
    fengtai = unit("110106")
    manager = UserFactory(role="district", unit=fengtai)
    assert outbox.notify_units(units=[fengtai], kind="escalated", title="升级", roles=["street"]) == 0
    assert outbox.notify_units(units=[fengtai], kind="escalated", title="升级", roles=["district"]) == 1
    assert Notification.objects.get().user == manager


def test_queueing_looks_at_each_notification_once_and_skips_those_with_nowhere_to_go(settings):
    settings.NOTIFY_WEBHOOK_URL = ""
    with_mail = UserFactory(role="street", unit=unit("110106003"), email="li@example.org")
    without = UserFactory(role="street", unit=unit("110106003"), email="")
    outbox.notify_units(units=[unit("110106003")], kind="new_order", title="新工单")
    assert outbox.queue_outbound() == 2
    assert not Notification.objects.filter(queued_at__isnull=True).exists()
    # nothing left to claim, and nothing was sent from the request's side
    assert outbox.queue_outbound() == 0
    assert not Notification.objects.filter(user__in=[with_mail, without], sent_at__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_new_notifications_by_email_after_the_queue_task(live_worker):
    from tests.conftest import wait_for
    from workorders import tasks

    with_mail = UserFactory(role="street", unit=unit("110106003"), email="wang@example.org")
    without = UserFactory(role="street", unit=unit("110106003"), email="")
    outbox.notify_units(units=[unit("110106003")], kind="new_order", title="新工单 X：测试")
    tasks.queue_outbound.delay()
    sent = wait_for(
        lambda: Notification.objects.filter(user=with_mail, sent_at__isnull=False).first(), log=live_worker.log
    )
    assert sent.queued_at is not None and sent.sent_at >= sent.queued_at
    other = Notification.objects.get(user=without)
    assert other.queued_at is not None and other.sent_at is None
    assert "wang@example.org" in live_worker.log.read_text()


def test_recipients_by_unit_follows_the_same_rule_as_notify_units():
    xiluoyuan, fengtai = unit("110106003"), unit("110106")
    handler = UserFactory(role="street", unit=xiluoyuan)
    UserFactory(role="street", unit=xiluoyuan, is_active=False)
    manager = UserFactory(role="district", unit=fengtai)
    assert outbox.recipients_by_unit([xiluoyuan.pk, fengtai.pk]) == {
        xiluoyuan.pk: [handler.pk],
        fengtai.pk: [manager.pk],
    }
    assert outbox.recipients_by_unit([xiluoyuan.pk, fengtai.pk], roles=["district"]) == {fengtai.pk: [manager.pk]}
