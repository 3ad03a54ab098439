"""The figures from orders that went the real way: created by an agent, signed, answered and closed
by the street, called back by the hotline, and one of them excluded street → district → city."""

from datetime import timedelta

import pytest
from django.utils import timezone

from assessment import periods, rulesets
from assessment.models import SnapshotRow
from assessment.snapshots import services
from hotline.models import Category
from tests.assessment.conftest import ensure_tiers
from tests.factories import CallFactory, division, unit
from workorders.lifecycle import callbacks, creation, exclusions, handling
from workorders.models import UrgencyTier

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def handled_order(agent, street_handler, answers: callbacks.Answers):
    ensure_tiers()
    now = timezone.now() - timedelta(hours=5)
    order = creation.order_create(
        call=CallFactory(street=division("110106003"), received_at=now),
        category=Category.objects.get_or_create(code="T-REAL", defaults={"name": "电梯故障", "level": 3})[0],
        tier=UrgencyTier.objects.get(code="T7D"),
        lead_unit=unit("110106003"),
        actor=agent,
        title="楼道电梯停运",
        street=division("110106003"),
        now=now,
    )
    handling.order_sign(order, actor=street_handler, now=now + timedelta(minutes=10))
    handling.order_respond(
        order,
        actor=street_handler,
        contacted_at=now + timedelta(minutes=30),
        method="phone",
        summary="已电话联系",
        now=now + timedelta(minutes=30),
    )
    handling.order_close(
        order,
        actor=street_handler,
        result="resolved",
        result_note="已修复",
        action_taken="联系物业维修",
        now=now + timedelta(hours=2),
    )
    callbacks.callback_record(order, actor=agent, answers=answers, now=now + timedelta(hours=3))
    order.refresh_from_db()
    return order


def test_the_figures_follow_the_real_callbacks_and_an_approved_exclusion(
    agent, xiluoyuan_handler, fengtai_manager, city_admin
):
    # given: three orders called back — satisfied, basically satisfied, satisfied; all resolved
    orders = [
        handled_order(agent, xiluoyuan_handler, callbacks.Answers(contacted=True, solved="resolved", satisfaction=s))
        for s in ("satisfied", "basic", "satisfied")
    ]
    assert all(o.callback_valid and o.assessed_unit.code == "110106003" for o in orders)
    # the period the callbacks fall in (not "now": the test may run just after a period starts)
    period = periods.period_of(orders[0].callback_at, rulesets.active_ruleset().period_start_day)
    snapshot = services.snapshot_compute_provisional(period=period)
    row = SnapshotRow.objects.get(snapshot=snapshot, scope="street", unit__code="110106003")
    # satisfaction (2 + 0.9 × 1)/3 = 0.9667; composite 100 × (0.1 + 0.5 + 0.4 × 0.9667) = 98.67
    assert (row.valid, row.satisfied, row.basic, row.excluded) == (3, 2, 1, 0)
    assert row.composite == pytest.approx(98.67)

    # when: the basically-satisfied one is excluded through the three approvals
    request = exclusions.exclusion_request(
        orders[1], actor=xiluoyuan_handler, reason="malicious", explanation="同一号码一周内来电 40 次。"
    )
    exclusions.exclusion_decide_district(request, actor=fengtai_manager, approve=True, note="属实")
    snapshot = services.snapshot_compute_provisional(period=period)
    pending = SnapshotRow.objects.get(snapshot=snapshot, scope="street", unit__code="110106003")
    assert pending.valid == 3  # not yet: the city has not decided
    exclusions.exclusion_decide_city(request, actor=city_admin, approve=True, note="同意")
    snapshot = services.snapshot_compute_provisional(period=period)

    # then: it leaves the rates (2 valid, both satisfied → 100) and is counted as excluded
    row = SnapshotRow.objects.get(snapshot=snapshot, scope="street", unit__code="110106003")
    assert (row.valid, row.satisfied, row.basic, row.excluded, row.total_orders) == (2, 2, 0, 1, 3)
    assert row.composite == pytest.approx(100)
    district = SnapshotRow.objects.get(snapshot=snapshot, scope="district", unit__code="110106")
    assert (district.valid, district.excluded) == (2, 1)
