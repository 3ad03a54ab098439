"""Access follows the order: once an order moves to another unit, the unit that had it loses the
caller's details and the phone reveal, unless it still takes part (hotline.access.visible_calls)."""

from datetime import timedelta

from hotline import access
from hotline.models import PersonalDataAccess
from tests.factories import unit
from workorders.lifecycle import handling
from workorders.models import OrderParticipant


def _reroute(order, street, manager):
    handling.order_request_return(order, actor=street, reason_code="not_ours", reason="该地址属右安门街道")
    handling.order_rule_return(
        order, actor=manager, accept=True, ruling="同意，改派右安门", reroute_unit=unit("110106001")
    )
    order.refresh_from_db()
    return order


def test_the_street_that_returned_an_order_no_longer_sees_the_caller(
    client, make_order, xiluoyuan_handler, youanmen_handler, fengtai_manager
):
    order = make_order(ago=timedelta(hours=1))
    call = order.call
    assert access.may_reveal_phone(xiluoyuan_handler, call)
    # when the return is accepted and re-routed to 右安门
    _reroute(order, xiluoyuan_handler, fengtai_manager)
    # then 西罗园 sees neither the call nor the phone; 右安门 and the district do
    assert not access.visible_calls(xiluoyuan_handler).filter(pk=call.pk).exists()
    assert not access.may_reveal_phone(xiluoyuan_handler, call)
    assert access.may_reveal_phone(youanmen_handler, call)
    assert access.visible_calls(fengtai_manager).filter(pk=call.pk).exists()
    client.force_login(xiluoyuan_handler)
    assert client.post(f"/calls/{call.pk}/reveal-phone/").status_code == 404
    listed = client.get("/api/v1/calls/").json()
    assert call.pk not in [row["id"] for row in listed["results"]]
    assert not PersonalDataAccess.objects.filter(call=call, user=xiluoyuan_handler).exists()


def test_a_unit_that_still_takes_part_keeps_the_call(make_order, xiluoyuan_handler, fengtai_manager):
    order = make_order(ago=timedelta(hours=1))
    order = _reroute(order, xiluoyuan_handler, fengtai_manager)
    OrderParticipant.objects.create(order=order, unit=unit("110106003"), role=OrderParticipant.Role.CO_HANDLER)
    assert access.may_reveal_phone(xiluoyuan_handler, order.call)


def test_a_call_without_an_order_stays_with_its_street(xiluoyuan_handler, youanmen_handler):
    from tests.factories import CallFactory, division

    call = CallFactory(street=division("110106003"), district=division("110106"))
    assert access.visible_calls(xiluoyuan_handler).filter(pk=call.pk).exists()
    assert not access.visible_calls(youanmen_handler).filter(pk=call.pk).exists()
