from datetime import timedelta

import pytest
from django.utils import timezone

from hotline.models import Category
from tests.factories import CallFactory, UserFactory, division, unit
from workorders.lifecycle import creation, handling
from workorders.models import UrgencyTier


def ensure_tiers() -> None:
    """Transactional tests flush the seeded tiers; put them back (same rows as the data migration)."""
    from workorders.lifecycle.tiers import ensure_default_tiers

    ensure_default_tiers()


@pytest.fixture
def category(db):
    ensure_tiers()
    return Category.objects.get_or_create(code="TEST-WATER", defaults={"name": "供水管线漏水", "level": 3})[0]


@pytest.fixture
def make_order(agent, category):
    """An order dispatched to a unit (西罗园 by default), optionally created `ago` in the past."""

    def make(lead="110106003", street="110106003", tier="T7D", ago=timedelta(0), **kw):
        now = timezone.now() - ago
        return creation.order_create(
            call=CallFactory(street=division(street) if street else None, received_at=now),
            category=category,
            tier=UrgencyTier.objects.get(code=tier),
            lead_unit=unit(lead),
            actor=agent,
            title="供水管线漏水",
            street=division(street) if street else None,
            now=now,
            **kw,
        )

    return make


@pytest.fixture
def signed_order(make_order, xiluoyuan_handler):
    order = make_order()
    return handling.order_sign(order, actor=xiluoyuan_handler)


@pytest.fixture
def responded_order(signed_order, xiluoyuan_handler):
    return handling.order_respond(
        signed_order, actor=xiluoyuan_handler, contacted_at=timezone.now(), method="phone", summary="已电话联系"
    )


@pytest.fixture
def fengtai_city_water_dept(db):
    return unit("110106-water")


@pytest.fixture
def other_water_handler(db):
    """A department handler of another district's water bureau."""
    return UserFactory(role="department", unit=unit("110108-water"))
