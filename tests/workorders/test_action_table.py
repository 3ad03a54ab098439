"""The action table (workorders/lifecycle/actions.py): what is offered is exactly what is accepted.

Generated over every row: for each order situation × each kind of user × each action of the order
desk, the order's API says which actions it offers (`actions`), then every action is POSTed with a
valid form. An offered action must succeed; an action not offered must be refused with a 4xx and
change nothing (the order row and its events are compared). Each attempt runs in a savepoint that
is rolled back, so every attempt sees the same situation. The callback and exclusion desks are
walked the same way through their transitions.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from districts.models import Section, Unit
from hotline.errors import DomainError
from hotline.models import Category
from tests.factories import CallFactory, UserFactory, unit
from workorders.handling.forms import department_units
from workorders.lifecycle import (
    actions,
    assignments,
    callbacks,
    creation,
    exclusions,
    handling,
    merging,
    self_evaluations,
)
from workorders.lifecycle.callbacks import Answers
from workorders.models import (
    ExclusionRequest,
    OrderEvent,
    OrderParticipant,
    OrderRequest,
    UrgencyTier,
    Whistle,
    WorkOrder,
)

pytestmark = pytest.mark.django_db

XILUOYUAN = "110106003"


@pytest.fixture
def people(agent, city_admin, xiluoyuan_handler, youanmen_handler, fengtai_manager, haidian_manager):
    cgb = Section.objects.create(unit=unit(XILUOYUAN), name="城管办")
    community = Section.objects.create(unit=unit(XILUOYUAN), name="洋桥北里社区", kind=Section.Kind.COMMUNITY)
    return {
        "center": xiluoyuan_handler,
        "member": UserFactory(role="street", unit=unit(XILUOYUAN), section=cgb),
        "other_member": UserFactory(role="street", unit=unit(XILUOYUAN), section=community),
        "other_street": youanmen_handler,
        "water": UserFactory(role="department", unit=unit("110106-water")),
        "other_water": UserFactory(role="department", unit=unit("110108-water")),
        "district": fengtai_manager,
        "other_district": haidian_manager,
        "city": city_admin,
        "agent": agent,
        "_sections": (cgb, community),
    }


def _respond(order, user):
    return handling.order_respond(order, actor=user, contacted_at=timezone.now(), method="phone", summary="已电话联系")


def _situation(name, make_order, p):
    """Build one situation of an order (西罗园 leads) through the real transitions."""
    center, member = p["center"], p["member"]
    cgb = p["_sections"][0]
    if name == "overdue_dispatched":
        return make_order(ago=timedelta(days=30))
    if name == "merged":  # merged into another open order of its unit (并单)
        order = make_order()
        merging.order_merge(make_order(), actor=center, others=[order], reason="同一事项")
        return WorkOrder.objects.get(pk=order.pk)
    order = make_order()
    if name == "dispatched":
        return order
    handling.order_sign(order, actor=center)
    if name == "signed":
        return order
    if name == "return_requested":
        handling.order_request_return(order, actor=center, reason_code="not_ours", reason="非本街道辖区")
        return order
    _respond(order, center)
    if name == "responded":
        return order
    if name == "parked":
        handling.order_park(order, actor=center, until=timezone.localdate() + timedelta(days=30), reason="需立项")
    elif name == "extension_pending":
        handling.order_request_extension(
            order, actor=center, new_deadline=order.resolution_deadline + timedelta(days=5), reason="需协调"
        )
    elif name in ("assigned", "proposal_pending"):
        assignments.order_assign(order, actor=center, section=cgb)
        if name == "proposal_pending":
            _respond(order, member)
            assignments.order_propose_close(
                order, actor=member, result="resolved", result_note="已修复", action_taken="现场维修"
            )
    elif name == "whistled":
        handling.order_whistle(
            order,
            actor=center,
            to_unit=unit("110106-water"),
            level=Whistle.Level.DAILY,
            reason="管线归属水务",
            report_by=timezone.now() + timedelta(days=1),
        )
    elif name == "co_handled":
        handling.order_add_co_units(order, actor=center, units=[unit("110106001")])
    elif name in ("closed", "completed"):
        handling.order_close(order, actor=center, result="resolved", result_note="已修复", action_taken="维修")
        if name == "completed":
            answers = Answers(contacted=True, solved="resolved", satisfaction="satisfied", comment="")
            callbacks.callback_record(order, actor=p["agent"], answers=answers)
    return WorkOrder.objects.get(pk=order.pk)


SITUATIONS = [
    "dispatched",
    "signed",
    "return_requested",
    "responded",
    "parked",
    "extension_pending",
    "assigned",
    "proposal_pending",
    "whistled",
    "co_handled",
    "closed",
    "completed",
    "overdue_dispatched",
    "merged",
]


def _payload(name: str, order: WorkOrder, p) -> dict:
    """A valid form for each order-desk action (valid whenever the action is offered)."""
    now = timezone.now()
    text = "现场核实处理"
    lead, participating = order.lead_unit_id, set(order.participants.values_list("unit_id", flat=True))
    if name == "co":
        free = Unit.objects.filter(kind=Unit.Kind.STREET, district_id=order.district_id).exclude(
            pk__in=[lead, *participating]
        )
        return {"units": [free.order_by("code").first().pk]}
    if name == "whistle":
        open_to = Whistle.objects.filter(order=order, state=Whistle.State.OPEN).values_list("to_unit_id", flat=True)
        return {
            "to_unit": department_units(order).exclude(pk__in=list(open_to)).first().pk,
            "level": Whistle.Level.DAILY,
            "reason": text,
            "report_by": (now + timedelta(days=1)).isoformat(),
        }
    if name == "report":
        whistle = Whistle.objects.filter(order=order, state=Whistle.State.OPEN).first()
        return {"whistle": whistle.pk if whistle else 0, "note": text}
    if name == "assign":
        cgb, community = p["_sections"]
        return {"section": (community if order.section_id == cgb.pk else cgb).pk}
    if name == "merge":  # another open order of the same unit, made for this attempt (rolled back)
        other = creation.order_create(
            call=CallFactory(street=order.street),
            category=order.category,
            tier=order.tier,
            lead_unit=order.lead_unit,
            actor=p["agent"],
            title="同一事项",
            street=order.street,
        )
        return {"orders": other.number, "reason": text}
    if name == "split":
        category = Category.objects.get_or_create(code="TEST-LIGHT", defaults={"name": "路灯不亮", "level": 3})[0]
        return {
            "description": "另有路灯不亮",
            "category": category.pk,
            "tier": UrgencyTier.objects.get(code="T7D").pk,
            "lead_unit": unit("110106001").pk,
        }
    return {
        "sign": {},
        "respond": {"contacted_at": now.isoformat(), "method": "phone", "summary": text},
        "note": {"note": text},
        "return": {"reason_code": "not_ours", "reason": text},
        "rule_return": {"decision": "accept", "reroute_unit": unit("110106001").pk, "ruling": text},
        "extend": {
            "new_date": (timezone.localdate(order.resolution_deadline) + timedelta(days=5)).isoformat(),
            "reason": text,
        },
        "rule_extension": {"decision": "accept", "ruling": text},
        "park": {"until": (timezone.localdate() + timedelta(days=30)).isoformat(), "reason": text},
        "clear": {"note": text},
        "close": {
            "result": "resolved",
            "result_note": text,
            "action_taken": text,
            "confirm_open_whistles": True,
            "whistle_reason": text,
        },
        "take_back": {"reason": text},
        "propose_close": {"result": "resolved", "result_note": text, "action_taken": text},
        "review_proposal": {"decision": "accept", "reason": "", "confirm_open_whistles": True, "whistle_reason": text},
        "unmerge": {"reason": text},
        "confidential": {"confidential": True, "reason": text},
    }[name]


def _state_of(order_pk: int) -> tuple:
    row = model_to_dict(WorkOrder.objects.get(pk=order_pk))
    return (
        row,
        OrderEvent.objects.filter(order_id=order_pk).count(),
        OrderRequest.objects.filter(order_id=order_pk).count(),
        OrderParticipant.objects.filter(order_id=order_pk).count(),
    )


@pytest.mark.parametrize("situation", SITUATIONS)
def test_every_order_action_is_offered_exactly_as_it_is_accepted(client, situation, make_order, people):
    order = _situation(situation, make_order, people)
    offered_somewhere = set()
    for who, user in people.items():
        if who.startswith("_"):
            continue
        client.force_login(user)
        detail = client.get(f"/api/v1/orders/{order.pk}/")
        offered = set(detail.json()["actions"]) if detail.status_code == 200 else set()
        assert detail.status_code in (200, 404), (who, detail.status_code)
        assert offered <= set(actions.ORDER_ACTIONS)
        offered_somewhere |= offered
        for name in actions.ORDER_ACTIONS:
            with transaction.atomic():
                before = _state_of(order.pk)
                payload = _payload(name, WorkOrder.objects.get(pk=order.pk), people)
                response = client.post(
                    f"/api/v1/orders/{order.pk}/{name.replace('_', '-')}/", payload, content_type="application/json"
                )
                if name in offered:
                    assert response.status_code == 200, (situation, who, name, response.content.decode()[:300])
                else:
                    assert response.status_code in (400, 403, 404), (situation, who, name, response.status_code)
                    assert _state_of(order.pk) == before, (situation, who, name, "a refused action changed the order")
                    if detail.status_code == 200:  # the refusal says why, translated, never a bare code
                        assert response.json().get("detail"), (situation, who, name)
                transaction.set_rollback(True)
    # every open situation offers someone something; a closed order is the callback desk's (the
    # hotline may still make any order confidential at the caller's request)
    handling_offered = offered_somewhere - {"confidential"}
    assert bool(handling_offered) == (situation not in ("closed", "completed")), (situation, offered_somewhere)


def test_the_refusal_on_the_page_and_in_the_api_is_the_tables_message(client, make_order, people):
    # given an order waiting to be signed, offered to nobody but its lead center
    order = make_order()
    refusal = actions.refusal(order, people["other_street"], "sign")
    assert refusal
    # when another street's handler signs it through the API
    client.force_login(people["other_street"])
    api = client.post(f"/api/v1/orders/{order.pk}/sign/", {}, content_type="application/json")
    # then: the order is not theirs to see (404); the table's message is what the lead's member hears
    assert api.status_code == 404
    client.force_login(people["member"])
    page = client.post(f"/orders/{order.pk}/sign/", {})
    assert page.status_code in (403, 404)
    order.refresh_from_db()
    assert order.state == "dispatched"
    # a district manager sees the order (supervision) but may not sign it: same words on page and API
    client.force_login(people["district"])
    message = actions.refusal(order, people["district"], "sign")
    api = client.post(f"/api/v1/orders/{order.pk}/sign/", {}, content_type="application/json")
    assert api.status_code == 403 and api.json()["detail"] == message
    page = client.post(f"/orders/{order.pk}/sign/", {})
    assert page.status_code == 403 and message in page.content.decode()
    order.refresh_from_db()
    assert order.state == "dispatched"


CALLBACK_CALLS = {
    "callback_attempt": lambda order, user: callbacks.callback_attempt(order, actor=user, result="no_answer"),
    "callback_record": lambda order, user: callbacks.callback_record(
        order, actor=user, answers=Answers(contacted=True, solved="resolved", satisfaction="satisfied", comment="")
    ),
    "self_evaluation_link": lambda order, user: self_evaluations.self_evaluation_link_create(order, actor=user),
    "send_back": lambda order, user: callbacks.order_send_back(order, actor=user, reason="答复不完整"),
}


@pytest.mark.parametrize("situation", ["responded", "closed", "completed", "overdue_dispatched", "parked"])
def test_every_callback_action_is_offered_exactly_as_it_is_accepted(situation, make_order, people):
    order = _situation(situation, make_order, people)
    assert set(CALLBACK_CALLS) == {n for n, a in actions.ACTIONS.items() if a.desk == actions.CALLBACK_DESK}
    for who, user in people.items():
        if who.startswith("_"):
            continue
        offered = set(actions.permitted(order, user, desk=actions.CALLBACK_DESK))
        for name, call in CALLBACK_CALLS.items():
            with transaction.atomic():
                before = _state_of(order.pk)
                try:
                    result = call(WorkOrder.objects.get(pk=order.pk), user)
                    # a second save of a finished round writes nothing and answers with the recorded one
                    accepted = not getattr(result, "already_recorded", False)
                except DomainError:
                    accepted = False
                    assert _state_of(order.pk) == before, (situation, who, name)
                assert accepted == (name in offered), (situation, who, name, offered)
                transaction.set_rollback(True)


def test_every_exclusion_action_is_offered_exactly_as_it_is_accepted(make_order, people):
    order = _situation("closed", make_order, people)
    center, district, city = people["center"], people["district"], people["city"]
    for who, user in people.items():
        if who.startswith("_"):
            continue
        offered = "exclusion_request" in actions.permitted(order, user, desk=actions.EXCLUSION_DESK)
        with transaction.atomic():
            try:
                exclusions.exclusion_request(order, actor=user, reason="malicious", explanation="恶意重复来电")
                accepted = True
            except DomainError:
                accepted = False
            assert accepted == offered, (who, offered)
            transaction.set_rollback(True)
    request = exclusions.exclusion_request(order, actor=center, reason="malicious", explanation="恶意重复来电")
    steps = [
        (
            "exclusion_decide_district",
            district,
            lambda r, u: exclusions.exclusion_decide_district(r, actor=u, approve=True),
        ),
        ("exclusion_decide_city", city, lambda r, u: exclusions.exclusion_decide_city(r, actor=u, approve=True)),
        ("exclusion_revoke", city, lambda r, u: exclusions.exclusion_revoke(r, actor=u, note="证据不足")),
    ]
    for step in range(len(steps)):
        request.refresh_from_db()
        for who, user in people.items():
            if who.startswith("_"):
                continue
            offered = set(actions.permitted(order, user, desk=actions.EXCLUSION_DESK, subject=request))
            for other, _u, call in steps:
                with transaction.atomic():
                    try:
                        call(ExclusionRequest.objects.get(pk=request.pk), user)
                        accepted = True
                    except DomainError:
                        accepted = False
                    assert accepted == (other in offered), (step, who, other, offered)
                    transaction.set_rollback(True)
        steps[step][2](request, steps[step][1])


def test_every_notification_an_action_sends_is_declared_in_its_row():
    # an undeclared recipient group is refused before anything is written
    order = WorkOrder(pk=1, number="X")
    with pytest.raises(KeyError):
        actions.tell("sign", order, to="rulers", title="-")
    for act in actions.ACTIONS.values():
        for told in act.tells:
            assert told.to in actions.UNIT_RECIPIENTS or told.to in actions.USER_RECIPIENTS, (act.name, told)
        assert act.who in actions.CAPABILITY and act.who in actions.REFUSALS
        if act.desk == actions.ORDER_DESK:
            assert act.form and act.transition, act.name
            actions.form_class(act.name)
        if act.transition:
            assert callable(actions.transition_of(act.name)), act.name
