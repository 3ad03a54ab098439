from datetime import timedelta

import pytest
from django.db.models.signals import pre_save
from django.utils import timezone

from hotline import sqlinsert
from hotline.models import Call
from tests.factories import CallFactory, division, unit
from workorders.lifecycle import creation as transitions
from workorders.models import OrderEvent, OrderParticipant, UrgencyTier, WorkOrder

pytestmark = pytest.mark.django_db


RECEIVED = timezone.now() - timedelta(minutes=3)


def _call(**kw) -> Call:
    street = division("110106003")
    fields = dict(
        caller_phone="13811012345",
        caller_name="李女士",
        request_type=Call.RequestType.COMPLAINT,
        address="丰台区洋桥北里12号楼",
        description="楼道电梯停运两天，<b>老人</b>上下楼困难。",
        street=street,
        district=street.district,
        outcome=Call.Outcome.PENDING,
        received_at=RECEIVED,
    )
    fields.update(kw)
    return Call(**fields)


def _row(obj) -> dict:
    row = type(obj).objects.filter(pk=obj.pk).values().get()  # every column
    row.pop("id")
    return row


def test_a_row_inserted_directly_reads_back_exactly_like_one_saved_by_the_orm():
    by_orm, direct = _call(), _call()
    by_orm.save()
    before = timezone.now()
    sqlinsert.insert(direct)
    assert direct.pk is not None and direct.pk != by_orm.pk
    assert not direct._state.adding and direct._state.db == "default"
    a, b = _row(by_orm), _row(direct)
    assert b.pop("created_at") >= before  # auto_now_add filled in, as save() does
    a.pop("created_at")
    assert a == b


def test_json_datetimes_and_foreign_keys_round_trip(agent):
    order = _order(agent)
    at = timezone.now() - timedelta(hours=1)
    event = OrderEvent(order=order, at=at, kind="note", actor=agent, note="记录", data={"files": ["a.jpg"], "中文": 1})
    sqlinsert.insert(event)
    stored = OrderEvent.objects.get(pk=event.pk)
    assert stored.data == {"files": ["a.jpg"], "中文": 1}
    assert stored.at == at and stored.actor_id == agent.pk and stored.order_id == order.pk


def test_several_rows_get_their_own_ids_in_order(agent):
    order = WorkOrder.objects.get(pk=_order(agent).pk)
    rows = [
        OrderParticipant(order=order, unit=unit("110106001"), role=OrderParticipant.Role.CO_HANDLER),
        OrderParticipant(order=order, unit=unit("110106-water"), role=OrderParticipant.Role.CO_HANDLER),
    ]
    sqlinsert.insert(*rows)
    assert rows[0].pk < rows[1].pk
    assert OrderParticipant.objects.get(pk=rows[1].pk).unit.code == "110106-water"


def test_a_model_with_a_pre_save_receiver_goes_through_save():
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.caller_name)

    pre_save.connect(receiver, sender=Call, dispatch_uid="test-sqlinsert")
    try:
        call = _call(caller_name="张先生")
        sqlinsert.insert(call)
    finally:
        pre_save.disconnect(sender=Call, dispatch_uid="test-sqlinsert")
    assert seen == ["张先生"] and Call.objects.filter(pk=call.pk).exists()


def test_an_unsaved_related_object_is_refused_like_save_and_nothing_is_written():
    unsaved = Call(caller_phone="13811012345", request_type="complaint", description="x" * 10)
    event_order = WorkOrder(call=unsaved)
    with pytest.raises(ValueError):
        sqlinsert.insert(event_order)
    assert not WorkOrder.objects.exists()


def _order(agent):
    from hotline.models import Category

    return transitions.order_create(
        call=CallFactory(),
        category=Category.objects.filter(level=3).first(),
        tier=UrgencyTier.objects.get(code="T7D"),
        lead_unit=unit("110106003"),
        actor=agent,
        title="电梯停运",
        street=division("110106003"),
    )


def test_a_model_that_overrides_save_goes_through_it_unless_it_says_inserts_are_plain():
    from hotline.models import User

    assert sqlinsert._plan(User, "default", 1) is None  # AbstractBaseUser.save does more
    assert sqlinsert._plan(OrderEvent, "default", 1) is not None  # its save() only refuses updates
    user = User(username="sqlinsert-user", role="")
    user.set_password("x-long-password-123")
    sqlinsert.insert(user)
    assert User.objects.get(pk=user.pk).check_password("x-long-password-123")
