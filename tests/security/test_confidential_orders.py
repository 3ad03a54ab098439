"""保密工单: a confidential caller's name, phone and address are shown to the hotline (agents, the
city) only — never to the handling units (street, department, district) — on the order page, the
print view, the call list, the home page, search results, the export, notifications and the APIs.
The one rule is hotline.access.sees_caller."""

from __future__ import annotations

import pytest
from django.db.models import Value
from django.utils import timezone

from assessment import exports
from assessment.models import CallbackFact
from tests.factories import CallFactory, UserFactory, division, unit
from workorders.lifecycle import callbacks, confidentiality, creation, handling
from workorders.lifecycle.callbacks import Answers
from workorders.models import Notification, UrgencyTier

pytestmark = pytest.mark.django_db

NAME, PHONE, ADDRESS = "王保密", "13912345678", "丰台区洋桥北里99号楼"
# what must never reach a handling unit (the phone's last four digits included: a masked phone is
# still a hint)
SECRETS = (NAME, PHONE, "5678", ADDRESS, "洋桥北里99号")


@pytest.fixture
def confidential_order(agent, category):
    from tests.workorders.conftest import ensure_tiers

    ensure_tiers()
    call = CallFactory(caller_name=NAME, caller_phone=PHONE, address=ADDRESS, street=division("110106003"))
    order = creation.order_create(
        call=call,
        category=category,
        tier=UrgencyTier.objects.get(code="T7D"),
        lead_unit=unit("110106003"),
        actor=agent,
        title="楼道杂物",
        street=division("110106003"),
    )
    confidentiality.order_set_confidential(order, actor=agent, confidential=True, reason="市民要求保密")
    order.refresh_from_db()
    return order


@pytest.fixture
def category(db):
    from hotline.models import Category

    return Category.objects.get_or_create(code="TEST-SAFE", defaults={"name": "楼道杂物", "level": 3})[0]


@pytest.fixture
def roles(agent, city_admin, xiluoyuan_handler, fengtai_manager, fengtai_city_water_dept_handler):
    return {
        "agent": (agent, True),
        "city": (city_admin, True),
        "street": (xiluoyuan_handler, False),
        "district": (fengtai_manager, False),
        "department": (fengtai_city_water_dept_handler, False),
    }


@pytest.fixture
def fengtai_city_water_dept_handler(db):
    return UserFactory(role="department", unit=unit("110106-water"))


def _sees(text: str) -> bool:
    return any(s in text for s in SECRETS)


def _whistle_water(order, street):
    from datetime import timedelta

    handling.order_sign(order, actor=street)
    handling.order_whistle(
        order,
        actor=street,
        to_unit=unit("110106-water"),
        level="daily",
        reason="管线",
        report_by=timezone.now() + timedelta(days=1),
    )


def test_it_hides_the_caller_on_every_page_and_api_from_handling_units(client, confidential_order, roles):
    # given a confidential order the water department is whistled into (so every role sees it)
    _whistle_water(confidential_order, roles["street"][0])
    pk = confidential_order.pk
    for who, (user, sees) in roles.items():
        client.force_login(user)
        # when each role opens the order page, its print view and the order API
        page = client.get(f"/orders/{pk}/").content.decode()
        printed = client.get(f"/orders/{pk}/print/").content.decode()
        api = client.get(f"/api/v1/orders/{pk}/").json()
        # then the hotline sees the caller, the handling units see the note instead
        assert (NAME in page) == sees, who
        assert (ADDRESS in printed) == sees, who
        assert (api["address"] == ADDRESS) == sees and (api["caller_name"] == NAME) == sees, who
        assert api["confidential"] is True
        if not sees:
            assert not _sees(page) and not _sees(printed) and not _sees(str(api)), who
            assert "请通过 12345 热线中心联系市民" in page and api["caller_note"], who
            assert 'data-testid="reveal-phone"' not in page


def test_it_hides_the_caller_in_the_call_list_search_and_calls_api(client, confidential_order, roles):
    for who, (user, sees) in roles.items():
        if who == "department":
            continue  # no call list for departments
        client.force_login(user)
        calls = client.get("/calls/").content.decode()
        api = client.get("/api/v1/calls/").json()
        rows = [r for r in api["results"] if r["id"] == confidential_order.call_id]
        assert (ADDRESS in calls) == sees, who
        assert rows and (rows[0]["address"] == ADDRESS) == sees and (rows[0]["caller_name"] == NAME) == sees, who
        if not sees:
            assert not _sees(calls) and not _sees(str(rows)), who
            # a hidden name, address or phone is not a search key either
            for query in (NAME, "洋桥北里99号", PHONE):
                found = client.post("/search/", {"q": query}).content.decode()
                assert confidential_order.number not in found, (who, query)
            assert client.get("/api/v1/calls/", {"q": "洋桥北里99号"}).json()["count"] == 0
            # and the logged reveal refuses
            assert client.post(f"/calls/{confidential_order.call_id}/reveal-phone/").status_code == 403
        else:
            found = client.post("/search/", {"q": NAME}).content.decode()
            assert confidential_order.number in found, who
        home = client.get("/").content.decode()
        assert not (not sees and _sees(home)), who


def test_the_export_leaves_a_confidential_callers_columns_blank(confidential_order, roles, agent):
    street = roles["street"][0]
    handling.order_sign(confidential_order, actor=street)
    handling.order_respond(
        confidential_order, actor=street, contacted_at=timezone.now(), method="phone", summary="经中心转达"
    )
    handling.order_close(confidential_order, actor=street, result="resolved", result_note="已清理", action_taken="清理")
    answers = Answers(contacted=True, solved="resolved", satisfaction="satisfied", comment="")
    callbacks.callback_record(confidential_order, actor=agent, answers=answers)
    # as the drill-down hands it over (snapshots.selectors.orders_behind annotates what was counted)
    facts = CallbackFact.objects.filter(order=confidential_order).annotate(counted_bits=Value(0))
    for who, (user, sees) in roles.items():
        rows = list(exports.order_table(facts, user=user))
        assert len(rows) == 2
        assert (ADDRESS in rows[1]) == sees, who
        if not sees:
            assert not _sees(" ".join(map(str, rows[1]))), who


def test_notifications_never_carry_the_caller(roles, confidential_order):
    _whistle_water(confidential_order, roles["street"][0])
    texts = " ".join(f"{n.title} {n.body}" for n in Notification.objects.filter(order=confidential_order))
    assert texts and not _sees(texts)
    assert "保密工单" in texts  # the lead unit was told to go through the center


def test_only_the_hotline_may_set_it(client, roles, confidential_order):
    for who, (user, sees) in roles.items():
        client.force_login(user)
        response = client.post(
            f"/api/v1/orders/{confidential_order.pk}/confidential/",
            {"confidential": False, "reason": "试图取消"},
            content_type="application/json",
        )
        confidential_order.call.refresh_from_db()
        if sees:
            assert response.status_code == 200, who
            confidentiality.order_set_confidential(confidential_order, actor=user, confidential=True, reason="恢复")
        else:
            assert response.status_code in (403, 404), who
            assert confidential_order.call.confidential, who
