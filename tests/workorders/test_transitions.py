from datetime import timedelta

import pytest
from django.utils import timezone

from hotline.errors import AccessDenied, DomainError
from tests.factories import UserFactory, unit
from workorders.lifecycle import handling, machinery
from workorders.models import (
    Notification,
    OrderEvent,
    OrderParticipant,
    OrderRequest,
    OrderState,
    Whistle,
    WorkOrder,
)

pytestmark = pytest.mark.django_db


def _snapshot(order):
    row = WorkOrder.objects.values().get(pk=order.pk)
    return row, OrderEvent.objects.filter(order=order).count()


# --- sign / respond ----------------------------------------------------------------------------
def test_it_signs_an_order_once(make_order, xiluoyuan_handler):
    # given
    order = make_order()
    # when
    handling.order_sign(order, actor=xiluoyuan_handler)
    # then
    order.refresh_from_db()
    assert order.state == OrderState.SIGNED and order.signed_at is not None
    assert order.events.filter(kind="signed", from_state="dispatched", to_state="signed").count() == 1
    before = _snapshot(order)
    with pytest.raises(DomainError, match="办理中"):
        handling.order_sign(order, actor=xiluoyuan_handler)
    assert _snapshot(order) == before


@pytest.mark.parametrize(
    "who", ["youanmen_handler", "water_dept_handler", "fengtai_manager", "haidian_manager", "agent", "city_admin"]
)
def test_it_refuses_every_handling_action_to_other_units(request, make_order, xiluoyuan_handler, who):
    # given an order of 西罗园, signed and responded, so every lead action would be legal
    order = make_order()
    handling.order_sign(order, actor=xiluoyuan_handler)
    handling.order_respond(
        order, actor=xiluoyuan_handler, contacted_at=timezone.now(), method="phone", summary="已联系"
    )
    outsider = request.getfixturevalue(who)
    before = _snapshot(order)
    now = timezone.now()
    attempts = [
        lambda: handling.order_sign(order, actor=outsider),
        lambda: handling.order_respond(order, actor=outsider, contacted_at=now, method="phone", summary="x"),
        lambda: handling.order_add_note(order, actor=outsider, note="x"),
        lambda: handling.order_add_co_units(order, actor=outsider, units=[unit("110106001")]),
        lambda: handling.order_whistle(
            order,
            actor=outsider,
            to_unit=unit("110106-water"),
            level="daily",
            reason="x",
            report_by=now + timedelta(hours=2),
        ),
        lambda: handling.order_request_return(order, actor=outsider, reason_code="not_ours", reason="x"),
        lambda: handling.order_request_extension(
            order, actor=outsider, new_deadline=order.resolution_deadline + timedelta(days=3), reason="x"
        ),
        lambda: handling.order_park(order, actor=outsider, until=timezone.localdate() + timedelta(days=30), reason="x"),
        lambda: handling.order_close(order, actor=outsider, result="resolved", result_note="x", action_taken="x"),
    ]
    for attempt in attempts:
        with pytest.raises(AccessDenied):
            attempt()
    # then nothing changed
    assert _snapshot(order) == before


def test_it_records_the_first_contact_against_the_response_deadline(make_order, xiluoyuan_handler):
    # given
    signed_order = make_order(ago=timedelta(hours=1))
    handling.order_sign(signed_order, actor=xiluoyuan_handler)
    # when
    contacted = timezone.now() - timedelta(minutes=5)
    handling.order_respond(
        signed_order, actor=xiluoyuan_handler, contacted_at=contacted, method="visit", summary="上门查看"
    )
    handling.order_respond(
        signed_order, actor=xiluoyuan_handler, contacted_at=timezone.now(), method="sms", summary="短信告知进展"
    )
    # then
    signed_order.refresh_from_db()
    assert signed_order.responded_at == contacted and signed_order.responded_in_time is True
    assert list(signed_order.events.filter(kind__in=["responded", "contact"]).values_list("kind", flat=True)) == [
        "responded",
        "contact",
    ]


def test_a_late_first_contact_is_not_in_time(make_order, xiluoyuan_handler):
    order = make_order(tier="T2H", ago=timedelta(hours=3))
    handling.order_sign(order, actor=xiluoyuan_handler)
    handling.order_respond(order, actor=xiluoyuan_handler, contacted_at=timezone.now(), method="phone", summary="x")
    order.refresh_from_db()
    assert order.responded_in_time is False


def test_it_refuses_a_contact_in_the_future_or_without_summary(signed_order, xiluoyuan_handler):
    before = _snapshot(signed_order)
    with pytest.raises(DomainError, match="晚于当前时间"):
        handling.order_respond(
            signed_order,
            actor=xiluoyuan_handler,
            contacted_at=timezone.now() + timedelta(hours=1),
            method="phone",
            summary="x",
        )
    with pytest.raises(DomainError, match="沟通内容"):
        handling.order_respond(
            signed_order, actor=xiluoyuan_handler, contacted_at=timezone.now(), method="phone", summary="  "
        )
    with pytest.raises(DomainError):
        handling.order_respond(
            signed_order, actor=xiluoyuan_handler, contacted_at=timezone.now(), method="pigeon", summary="x"
        )
    assert _snapshot(signed_order) == before


def test_it_needs_signing_before_responding(make_order, xiluoyuan_handler):
    order = make_order()
    with pytest.raises(DomainError, match="待签收"):
        handling.order_respond(order, actor=xiluoyuan_handler, contacted_at=timezone.now(), method="phone", summary="x")


# --- co-handling and whistle --------------------------------------------------------------------
def test_co_handlers_see_the_order_and_add_records(signed_order, xiluoyuan_handler, youanmen_handler):
    from hotline import access

    # given
    assert not access.visible_orders(youanmen_handler).filter(pk=signed_order.pk).exists()
    # when
    handling.order_add_co_units(signed_order, actor=xiluoyuan_handler, units=[unit("110106001")])
    # then
    assert access.visible_orders(youanmen_handler).filter(pk=signed_order.pk).exists()
    handling.order_add_note(signed_order, actor=youanmen_handler, note="协助疏通")
    assert signed_order.events.filter(kind="note", actor=youanmen_handler).exists()
    assert Notification.objects.filter(user=youanmen_handler, kind="co_handling").exists()
    with pytest.raises(DomainError, match="已是协办"):
        handling.order_add_co_units(signed_order, actor=xiluoyuan_handler, units=[unit("110106001")])


def test_a_co_handler_cannot_act_as_the_lead(signed_order, xiluoyuan_handler, youanmen_handler):
    handling.order_add_co_units(signed_order, actor=xiluoyuan_handler, units=[unit("110106001")])
    with pytest.raises(AccessDenied):
        handling.order_close(signed_order, actor=youanmen_handler, result="resolved", result_note="x", action_taken="x")


def test_whistle_and_report(signed_order, xiluoyuan_handler, water_dept_handler):
    from hotline import access

    # when
    whistle = handling.order_whistle(
        signed_order,
        actor=xiluoyuan_handler,
        to_unit=unit("110106-water"),
        level="hard",
        reason="主管线破裂需水务部门处置",
        report_by=timezone.now() + timedelta(hours=4),
    )
    # then the department sees it and is told
    assert access.visible_orders(water_dept_handler).filter(pk=signed_order.pk).exists()
    assert OrderParticipant.objects.filter(order=signed_order, unit__code="110106-water", role="whistled").exists()
    assert Notification.objects.filter(user=water_dept_handler, kind="whistle").exists()
    # a second whistle to the same department before it reports is refused
    with pytest.raises(DomainError, match="尚未报到"):
        handling.order_whistle(
            signed_order,
            actor=xiluoyuan_handler,
            to_unit=unit("110106-water"),
            level="daily",
            reason="x",
            report_by=timezone.now() + timedelta(hours=4),
        )
    # the street cannot report for the department
    with pytest.raises(AccessDenied):
        handling.whistle_report(whistle, actor=xiluoyuan_handler, note="x")
    handling.whistle_report(whistle, actor=water_dept_handler, note="已到场关阀抢修")
    whistle.refresh_from_db()
    assert whistle.state == Whistle.State.REPORTED and whistle.report_note == "已到场关阀抢修"
    with pytest.raises(DomainError, match="重复报到"):
        handling.whistle_report(whistle, actor=water_dept_handler, note="again")
    assert signed_order.events.filter(kind="whistle_reported").count() == 1
    # the department adds its own record
    handling.order_add_note(signed_order, actor=water_dept_handler, note="更换阀门")


def test_it_whistles_only_departments_with_a_future_report_time(signed_order, xiluoyuan_handler):
    with pytest.raises(DomainError, match="职能部门"):
        handling.order_whistle(
            signed_order,
            actor=xiluoyuan_handler,
            to_unit=unit("110106001"),
            level="daily",
            reason="x",
            report_by=timezone.now() + timedelta(hours=1),
        )
    with pytest.raises(DomainError, match="报到时限"):
        handling.order_whistle(
            signed_order,
            actor=xiluoyuan_handler,
            to_unit=unit("110106-water"),
            level="daily",
            reason="x",
            report_by=timezone.now() - timedelta(hours=1),
        )
    assert not Whistle.objects.exists()


# --- return ------------------------------------------------------------------------------------
def test_a_return_accepted_by_the_district_reroutes_with_a_fresh_clock(
    make_order, xiluoyuan_handler, youanmen_handler, fengtai_manager
):
    # given an order two days old
    order = make_order(ago=timedelta(days=2))
    old_deadline = order.resolution_deadline
    handling.order_request_return(order, actor=xiluoyuan_handler, reason_code="not_ours", reason="该地址属右安门")
    order.refresh_from_db()
    assert order.state == OrderState.RETURN_REQUESTED
    assert Notification.objects.filter(user=fengtai_manager, kind="approval_needed").exists()
    # when
    handling.order_rule_return(
        order, actor=fengtai_manager, accept=True, ruling="同意，改派右安门", reroute_unit=unit("110106001")
    )
    # then
    order.refresh_from_db()
    assert order.state == OrderState.DISPATCHED and order.lead_unit.code == "110106001"
    assert order.street.code == "110106001"
    assert order.resolution_deadline > old_deadline and order.signed_at is None
    assert OrderRequest.objects.get(order=order).state == OrderRequest.State.APPROVED
    handling.order_sign(order, actor=youanmen_handler)
    with pytest.raises(AccessDenied):
        handling.order_sign(order, actor=xiluoyuan_handler)


def test_a_rejected_return_goes_back_to_the_unit_with_the_ruling(signed_order, xiluoyuan_handler, fengtai_manager):
    handling.order_request_return(signed_order, actor=xiluoyuan_handler, reason_code="other", reason="x")
    handling.order_rule_return(signed_order, actor=fengtai_manager, accept=False, ruling="属本街道职责，请继续办理")
    signed_order.refresh_from_db()
    assert signed_order.state == OrderState.SIGNED
    assert Notification.objects.filter(user=xiluoyuan_handler, kind="ruling").exists()
    assert signed_order.events.filter(kind="return_rejected", note="属本街道职责，请继续办理").exists()


def test_only_the_orders_district_or_the_city_rules(signed_order, xiluoyuan_handler, haidian_manager, city_admin):
    handling.order_request_return(signed_order, actor=xiluoyuan_handler, reason_code="other", reason="x")
    before = _snapshot(signed_order)
    with pytest.raises(AccessDenied):
        handling.order_rule_return(signed_order, actor=haidian_manager, accept=False, ruling="x")
    with pytest.raises(AccessDenied):
        handling.order_rule_return(signed_order, actor=xiluoyuan_handler, accept=False, ruling="x")
    assert _snapshot(signed_order) == before
    with pytest.raises(DomainError, match="改派单位"):
        handling.order_rule_return(signed_order, actor=city_admin, accept=True, ruling="x")
    assert _snapshot(signed_order) == before
    handling.order_rule_return(signed_order, actor=city_admin, accept=False, ruling="city says no")


# --- extension ----------------------------------------------------------------------------------
def test_an_approved_extension_moves_the_deadline(signed_order, xiluoyuan_handler, fengtai_manager):
    # given
    new = signed_order.resolution_deadline + timedelta(days=10)
    handling.order_request_extension(signed_order, actor=xiluoyuan_handler, new_deadline=new, reason="需协调物业")
    with pytest.raises(DomainError, match="待审批"):
        handling.order_request_extension(signed_order, actor=xiluoyuan_handler, new_deadline=new, reason="again")
    # when
    handling.order_rule_extension(signed_order, actor=fengtai_manager, approve=True, ruling="同意")
    # then
    signed_order.refresh_from_db()
    assert signed_order.resolution_deadline == new
    assert signed_order.resolution_warn_at < new
    assert OrderRequest.objects.get(order=signed_order).state == "approved"


def test_a_rejected_extension_keeps_the_deadline(signed_order, xiluoyuan_handler, fengtai_manager):
    old = signed_order.resolution_deadline
    handling.order_request_extension(
        signed_order, actor=xiluoyuan_handler, new_deadline=old + timedelta(days=3), reason="x"
    )
    handling.order_rule_extension(signed_order, actor=fengtai_manager, approve=False, ruling="时限内可办结")
    signed_order.refresh_from_db()
    assert signed_order.resolution_deadline == old


def test_an_extension_must_move_the_deadline_later(signed_order, xiluoyuan_handler):
    with pytest.raises(DomainError, match="必须晚于"):
        handling.order_request_extension(
            signed_order, actor=xiluoyuan_handler, new_deadline=signed_order.resolution_deadline, reason="x"
        )
    assert not OrderRequest.objects.exists()


# --- parking ------------------------------------------------------------------------------------
def test_parking_suspends_the_clock_and_clearing_resumes_it(signed_order, xiluoyuan_handler):
    # given
    old = signed_order.resolution_deadline
    start = timezone.now()
    handling.order_park(
        signed_order,
        actor=xiluoyuan_handler,
        until=timezone.localdate() + timedelta(days=90),
        reason="需更换主管线",
        now=start,
    )
    signed_order.refresh_from_db()
    assert signed_order.state == OrderState.PARKED
    # when cleared 5 days later
    handling.order_clear_parking(
        signed_order, actor=xiluoyuan_handler, note="管线已更换", now=start + timedelta(days=5)
    )
    # then the deadline moved by the 5 days parked
    signed_order.refresh_from_db()
    assert signed_order.state == OrderState.SIGNED
    assert signed_order.resolution_deadline == old + timedelta(days=5)


def test_responding_while_parked_counts_the_response_clock_as_stopped(signed_order, xiluoyuan_handler):
    # given: parked one hour before the response limit, and the caller reached three days later
    deadline = signed_order.response_deadline
    parked_at = deadline - timedelta(hours=1)
    handling.order_park(
        signed_order,
        actor=xiluoyuan_handler,
        until=timezone.localdate() + timedelta(days=90),
        reason="x",
        now=parked_at,
    )
    contacted = deadline + timedelta(days=3)
    # when
    handling.order_respond(
        signed_order, actor=xiluoyuan_handler, contacted_at=contacted, method="phone", summary="已联系", now=contacted
    )
    # then: one hour of the clock had been used up to the parking; the unit was in time
    signed_order.refresh_from_db()
    assert signed_order.responded_at == contacted and signed_order.responded_in_time is True


def test_responding_while_parked_after_the_limit_had_passed_is_late(signed_order, xiluoyuan_handler):
    deadline = signed_order.response_deadline
    parked_at = deadline + timedelta(hours=1)
    handling.order_park(
        signed_order,
        actor=xiluoyuan_handler,
        until=timezone.localdate() + timedelta(days=90),
        reason="x",
        now=parked_at,
    )
    contacted = parked_at + timedelta(minutes=5)
    handling.order_respond(
        signed_order, actor=xiluoyuan_handler, contacted_at=contacted, method="phone", summary="已联系", now=contacted
    )
    signed_order.refresh_from_db()
    assert signed_order.responded_in_time is False


def test_parking_needs_a_future_date(signed_order, xiluoyuan_handler):
    with pytest.raises(DomainError, match="晚于今天"):
        handling.order_park(signed_order, actor=xiluoyuan_handler, until=timezone.localdate(), reason="x")


# --- close --------------------------------------------------------------------------------------
def test_it_closes_only_after_a_response(signed_order, xiluoyuan_handler):
    with pytest.raises(DomainError, match="响应"):
        handling.order_close(
            signed_order, actor=xiluoyuan_handler, result="resolved", result_note="x", action_taken="x"
        )
    handling.order_respond(
        signed_order, actor=xiluoyuan_handler, contacted_at=timezone.now(), method="phone", summary="x"
    )
    handling.order_close(
        signed_order, actor=xiluoyuan_handler, result="partly", result_note="已修复部分", action_taken="更换阀门"
    )
    signed_order.refresh_from_db()
    assert signed_order.state == OrderState.CLOSED and signed_order.result == "partly"
    with pytest.raises(DomainError):
        handling.order_close(
            signed_order, actor=xiluoyuan_handler, result="resolved", result_note="x", action_taken="x"
        )


def test_closing_needs_a_result_and_explanation(responded_order, xiluoyuan_handler):
    before = _snapshot(responded_order)
    with pytest.raises(DomainError):
        handling.order_close(
            responded_order, actor=xiluoyuan_handler, result="maybe", result_note="x", action_taken="x"
        )
    with pytest.raises(DomainError, match="答复市民"):
        handling.order_close(
            responded_order, actor=xiluoyuan_handler, result="resolved", result_note="", action_taken="x"
        )
    assert _snapshot(responded_order) == before


@pytest.mark.parametrize(
    "state,action",
    [
        ("dispatched", "close"),
        ("dispatched", "park"),
        ("dispatched", "extend"),
        ("dispatched", "whistle"),
        ("closed", "sign"),
        ("closed", "note"),
        ("closed", "return"),
        ("closed", "park"),
        ("parked", "extend"),
        ("parked", "return"),
        ("signed", "clear"),
        ("signed", "sign"),
    ],
)
def test_each_illegal_state_move_is_refused_and_changes_nothing(make_order, xiluoyuan_handler, state, action):
    order = make_order()
    if state != "dispatched":
        handling.order_sign(order, actor=xiluoyuan_handler)
        handling.order_respond(order, actor=xiluoyuan_handler, contacted_at=timezone.now(), method="phone", summary="x")
    if state == "closed":
        handling.order_close(order, actor=xiluoyuan_handler, result="resolved", result_note="x", action_taken="x")
    if state == "parked":
        handling.order_park(order, actor=xiluoyuan_handler, until=timezone.localdate() + timedelta(days=9), reason="x")
    before = _snapshot(order)
    now = timezone.now()
    calls = {
        "sign": lambda: handling.order_sign(order, actor=xiluoyuan_handler),
        "close": lambda: handling.order_close(
            order, actor=xiluoyuan_handler, result="resolved", result_note="x", action_taken="x"
        ),
        "park": lambda: handling.order_park(
            order, actor=xiluoyuan_handler, until=timezone.localdate() + timedelta(days=9), reason="x"
        ),
        "extend": lambda: handling.order_request_extension(
            order, actor=xiluoyuan_handler, new_deadline=now + timedelta(days=60), reason="x"
        ),
        "whistle": lambda: handling.order_whistle(
            order,
            actor=xiluoyuan_handler,
            to_unit=unit("110106-water"),
            level="daily",
            reason="x",
            report_by=now + timedelta(hours=3),
        ),
        "note": lambda: handling.order_add_note(order, actor=xiluoyuan_handler, note="x"),
        "return": lambda: handling.order_request_return(
            order, actor=xiluoyuan_handler, reason_code="other", reason="x"
        ),
        "clear": lambda: handling.order_clear_parking(order, actor=xiluoyuan_handler, note="x"),
    }
    with pytest.raises(DomainError) as info:
        calls[action]()
    assert info.value.code == "invalid_state"
    assert _snapshot(order) == before


def test_start_round_serves_the_callback_stage(make_order, xiluoyuan_handler):
    # given a closed order
    order = make_order()
    handling.order_sign(order, actor=xiluoyuan_handler)
    # when the callback stage starts round 2 with the same unit
    order = machinery.lock(order) if False else WorkOrder.objects.get(pk=order.pk)
    fields = machinery.start_round(order, unit=unit("110106003"), now=timezone.now())
    order.save(update_fields=fields)
    # then
    order.refresh_from_db()
    assert order.round == 2 and order.state == "dispatched" and order.signed_at is None


def test_a_department_lead_can_handle_its_own_order(make_order, water_dept_handler):
    order = make_order(lead="110106-water")
    handling.order_sign(order, actor=water_dept_handler)
    other = UserFactory(role="department", unit=unit("110108-water"))
    with pytest.raises(AccessDenied):
        handling.order_add_note(order, actor=other, note="x")


@pytest.mark.parametrize(
    "who, may",
    [
        ("city_admin", True),
        ("fengtai_manager", True),
        ("haidian_manager", False),
        ("agent", False),
        ("xiluoyuan_handler", False),
        ("water_dept_handler", False),
    ],
)
def test_the_offered_ruling_and_the_ruling_itself_agree_for_every_role(
    request, signed_order, xiluoyuan_handler, who, may
):
    from workorders.handling.selectors import available_actions

    handling.order_request_return(signed_order, actor=xiluoyuan_handler, reason_code="other", reason="x")
    order = WorkOrder.objects.get(pk=signed_order.pk)
    user = request.getfixturevalue(who)
    assert ("rule_return" in available_actions(order, user)) is may
    before = _snapshot(order)
    if may:
        handling.order_rule_return(order, actor=user, accept=False, ruling="不予退回")
        assert WorkOrder.objects.get(pk=order.pk).state == OrderState.SIGNED
    else:
        with pytest.raises(AccessDenied):
            handling.order_rule_return(order, actor=user, accept=False, ruling="不予退回")
        assert _snapshot(order) == before
