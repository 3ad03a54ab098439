"""并单 (merge) and 拆单 (split): history on both sides, callers told, undo within the window, and
every refusal changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone

from hotline.errors import DomainError
from hotline.models import Category, SmsMessage
from tests.factories import unit
from workorders.lifecycle import handling, merging, splitting
from workorders.lifecycle.splitting import Part
from workorders.models import Notification, OrderEvent, OrderState, UrgencyTier, WorkOrder

pytestmark = pytest.mark.django_db


def _snapshot(*orders):
    return [
        (model_to_dict(WorkOrder.objects.get(pk=o.pk)), OrderEvent.objects.filter(order_id=o.pk).count())
        for o in orders
    ] + [SmsMessage.objects.count()]


def test_it_merges_an_order_into_the_surviving_one_with_history_sms_and_notifications(
    client, make_order, city_admin, xiluoyuan_handler, youanmen_handler
):
    # given two open orders of one incident, led by two streets of 丰台
    survivor = make_order()
    other = make_order(lead="110106001", street="110106001")
    handling.order_sign(other, actor=youanmen_handler)
    # when the city center merges the second into the first, from the order page
    client.force_login(city_admin)
    response = client.post(f"/orders/{survivor.pk}/merge/", {"merge-orders": other.number, "merge-reason": "同一路灯"})
    assert response.status_code == 302
    # then the merged order left the inboxes, linked to the survivor, its clock stopped
    other.refresh_from_db()
    assert other.state == OrderState.MERGED and other.merged_into_id == survivor.pk
    assert other.merged_from_state == OrderState.SIGNED
    assert not WorkOrder.objects.filter(pk=other.pk, state__in=["dispatched", "signed", "parked"]).exists()
    # both histories say so, the merged caller got a text, the merged order's unit was told
    assert OrderEvent.objects.filter(order=survivor, kind="merged").exists()
    assert OrderEvent.objects.filter(order=other, kind="merged_into", data__into=survivor.pk).exists()
    sms = SmsMessage.objects.get(order=other, purpose="merged")
    assert survivor.number in sms.text and sms.phone == other.call.caller_phone
    assert Notification.objects.filter(user=youanmen_handler, kind="merged").exists()
    # the survivor's page lists the merged order and its caller for the center
    page = client.get(f"/orders/{survivor.pk}/").content.decode()
    assert other.number in page and 'data-testid="merged-order"' in page
    assert other.call.caller_phone in page or other.call.caller_phone[-4:] in page


def test_the_lead_unit_merges_its_own_orders_but_not_across_units_or_districts(
    make_order, xiluoyuan_handler, city_admin
):
    a, b = make_order(), make_order()
    neighbour = make_order(lead="110106001", street="110106001")
    haidian = make_order(lead="110108010", street="110108010")
    before = _snapshot(a, b, neighbour, haidian)
    with pytest.raises(DomainError):  # not its order
        merging.order_merge(a, actor=xiluoyuan_handler, others=[neighbour], reason="同一事项")
    with pytest.raises(DomainError):  # another district, not the center
        merging.order_merge(a, actor=xiluoyuan_handler, others=[haidian], reason="同一事项")
    with pytest.raises(DomainError):  # itself
        merging.order_merge(a, actor=xiluoyuan_handler, others=[a], reason="同一事项")
    assert _snapshot(a, b, neighbour, haidian) == before
    merging.order_merge(a, actor=xiluoyuan_handler, others=[b], reason="同一事项")
    assert WorkOrder.objects.get(pk=b.pk).state == OrderState.MERGED


def test_refusals_change_nothing(client, make_order, xiluoyuan_handler, youanmen_handler, city_admin, agent):
    a, b = make_order(), make_order()
    closed = make_order()
    handling.order_sign(closed, actor=xiluoyuan_handler)
    handling.order_respond(
        closed, actor=xiluoyuan_handler, contacted_at=timezone.now(), method="phone", summary="已联系"
    )
    handling.order_close(closed, actor=xiluoyuan_handler, result="resolved", result_note="好", action_taken="修")
    before = _snapshot(a, b, closed)
    # a closed order cannot merge; an order the user may not see is "not found", in words
    with pytest.raises(DomainError, match="不能并单"):
        merging.order_merge(a, actor=city_admin, others=[closed], reason="同一事项")
    client.force_login(youanmen_handler)
    response = client.post(
        f"/api/v1/orders/{a.pk}/merge/", {"orders": b.number, "reason": "同一事项"}, content_type="application/json"
    )
    assert response.status_code == 404
    # an agent may not merge; a half-valid list merges nothing
    client.force_login(agent)
    response = client.post(
        f"/api/v1/orders/{a.pk}/merge/", {"orders": b.number, "reason": "同一事项"}, content_type="application/json"
    )
    assert response.status_code == 403 and response.json()["detail"]
    client.force_login(city_admin)
    response = client.post(
        f"/api/v1/orders/{a.pk}/merge/",
        {"orders": f"{b.number} {closed.number}", "reason": "同一事项"},
        content_type="application/json",
    )
    assert response.status_code == 400 and "不能并单" in response.json()["detail"]
    response = client.post(
        f"/api/v1/orders/{a.pk}/merge/", {"orders": "99999999999999", "reason": "x"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert _snapshot(a, b, closed) == before


def test_the_center_undoes_a_merge_within_the_window(client, make_order, city_admin, xiluoyuan_handler, settings):
    a, b = make_order(), make_order()
    handling.order_sign(b, actor=xiluoyuan_handler)
    merging.order_merge(a, actor=xiluoyuan_handler, others=[b], reason="同一事项")
    # the street may not undo it; the city may
    with pytest.raises(DomainError):
        merging.order_unmerge(b, actor=xiluoyuan_handler, reason="误并")
    client.force_login(city_admin)
    response = client.post(f"/api/v1/orders/{b.pk}/unmerge/", {"reason": "误并"}, content_type="application/json")
    assert response.status_code == 200
    b.refresh_from_db()
    assert b.state == OrderState.SIGNED and b.merged_into_id is None
    assert OrderEvent.objects.filter(order=a, kind="merge_undone").exists()
    assert OrderEvent.objects.filter(order=b, kind="unmerged").exists()
    # past the window the undo is refused and nothing changes
    merging.order_merge(a, actor=city_admin, others=[b], reason="同一事项")
    settings.MERGE_UNDO_HOURS = 1
    before = _snapshot(a, b)
    with pytest.raises(DomainError, match="不能撤销"):
        merging.order_unmerge(b, actor=city_admin, reason="误并", now=timezone.now() + timedelta(hours=2))
    assert _snapshot(a, b) == before


def test_it_splits_a_call_into_child_orders_for_other_units(client, make_order, agent, youanmen_handler):
    parent = make_order()
    light = Category.objects.get_or_create(code="TEST-LIGHT", defaults={"name": "路灯不亮", "level": 3})[0]
    client.force_login(agent)
    response = client.post(
        f"/api/v1/orders/{parent.pk}/split/",
        {
            "description": "另外，楼下路灯不亮",
            "category": light.pk,
            "tier": UrgencyTier.objects.get(code="T24H").pk,
            "lead_unit": unit("110106001").pk,
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    child = WorkOrder.objects.get(parent_call=parent.call)
    # its own category, tier (deadline), unit and call (the caller's details copied), in that unit's inbox
    assert child.category == light and child.tier.code == "T24H" and child.lead_unit == unit("110106001")
    assert child.call_id != parent.call_id and child.call.caller_phone == parent.call.caller_phone
    assert child.state == OrderState.DISPATCHED and child.resolution_deadline < parent.resolution_deadline
    assert OrderEvent.objects.filter(order=parent, kind="split", data__children=[child.pk]).exists()
    assert Notification.objects.filter(user=youanmen_handler, order=child, kind="new_order").exists()
    # the orders see each other
    assert child.number in client.get(f"/orders/{parent.pk}/").content.decode()
    assert parent.number in client.get(f"/orders/{child.pk}/").content.decode()


def test_a_split_is_refused_for_units_and_outside_the_district(make_order, agent, xiluoyuan_handler):
    parent = make_order()
    light = Category.objects.get_or_create(code="TEST-LIGHT", defaults={"name": "路灯不亮", "level": 3})[0]
    tier = UrgencyTier.objects.get(code="T7D")
    before = WorkOrder.objects.count()
    with pytest.raises(DomainError):
        splitting.order_split(parent, actor=xiluoyuan_handler, parts=[Part(light, tier, unit("110106001"), "路灯")])
    with pytest.raises(DomainError):  # a street of another district
        splitting.order_split(parent, actor=agent, parts=[Part(light, tier, unit("110108010"), "路灯")])
    assert WorkOrder.objects.count() == before
