"""Each role's home page shows its own desk, and nothing of another unit's."""

import pytest
from django.urls import reverse

from hotline.models import Category
from tests.factories import CallFactory, division, unit
from workorders.lifecycle import creation as transitions
from workorders.models import UrgencyTier

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(agent):
    category = Category.objects.create(code="T-HOME", name="电梯故障", level=3)
    tier = UrgencyTier.objects.get(code="T7D")

    def make(street_code):
        return transitions.order_create(
            call=CallFactory(street=division(street_code)),
            category=category,
            tier=tier,
            lead_unit=unit(street_code),
            actor=agent,
            title="电梯停运",
            street=division(street_code),
        )

    return [make("110106003"), make("110106003"), make("110106001")]


def test_a_street_home_counts_only_its_own_orders_to_sign(client, orders, xiluoyuan_handler, youanmen_handler):
    client.force_login(xiluoyuan_handler)
    assert client.get(reverse("home")).context["desk"]["to_sign"] == 2
    client.force_login(youanmen_handler)
    assert client.get(reverse("home")).context["desk"]["to_sign"] == 1


def test_a_district_home_counts_its_district_and_the_approvals_waiting(client, orders, fengtai_manager):
    client.force_login(fengtai_manager)
    resp = client.get(reverse("home"))
    assert resp.context["desk"]["to_sign"] == 3
    assert resp.context["approvals"] == {"requests": 0, "exclusions": 0}


def test_another_district_sees_none_of_them(client, orders, haidian_manager):
    client.force_login(haidian_manager)
    assert client.get(reverse("home")).context["desk"]["to_sign"] == 0


def test_the_agent_home_shows_the_callback_queue_panel(client, agent):
    client.force_login(agent)
    body = client.get(reverse("home")).content.decode()
    assert "待回访" in body


@pytest.mark.parametrize("who", ["agent", "xiluoyuan_handler", "water_dept_handler", "fengtai_manager", "city_admin"])
def test_every_role_home_page_renders(request, client, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("home")).status_code == 200
