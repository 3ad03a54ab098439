"""二次派单 in a real browser: 西罗园街道's center assigns one order to 城管办 and another to a community
committee; the 城管办 member sees only theirs, handles it and proposes closing, as does the committee;
the center sends one back and accepts the other; the history shows each step; a member of another
section sees neither."""

from datetime import timedelta

import pytest
from django.utils import timezone

from districts.models import Division, Section
from tests.browser.conftest import login
from tests.factories import PASSWORD, CallFactory, UserFactory, division, unit

pytestmark = [pytest.mark.browser]


def _as(page, user):
    page.context.clear_cookies()
    login(page, user.username, PASSWORD)


def _open_action(page, action):
    page.get_by_test_id(f"action-{action}").click()


def _propose(page, order, note):
    page.goto(f"/orders/{order.pk}/")
    _open_action(page, "respond")
    page.fill("#id_respond-contacted_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    page.select_option("#id_respond-method", "visit")
    page.fill("#id_respond-summary", "上门查看")
    page.get_by_test_id("submit-respond").click()
    page.wait_for_load_state()
    _open_action(page, "note")
    page.fill("#id_note-note", note)
    page.get_by_test_id("submit-note").click()
    page.wait_for_load_state()
    _open_action(page, "propose_close")
    page.select_option("#id_propose_close-result", "resolved")
    page.fill("#id_propose_close-result_note", "问题已解决")
    page.fill("#id_propose_close-action_taken", note)
    page.get_by_test_id("submit-propose_close").click()
    page.wait_for_load_state()
    assert "问题已解决" in page.get_by_test_id("proposal").inner_text()


def test_the_street_center_dispatches_inside_the_street(page, reference_data):
    from hotline.models import Category
    from tests.workorders.conftest import ensure_tiers
    from workorders.lifecycle import creation, handling
    from workorders.models import OrderEvent, UrgencyTier, WorkOrder

    ensure_tiers()
    street = unit("110106003")
    cgb = Section.objects.create(unit=street, name="城管办")
    pab = Section.objects.create(unit=street, name="平安办")
    place = Division.objects.filter(parent=street.division, level=Division.Level.COMMUNITY).order_by("code")[0]
    committee = Section.objects.create(unit=street, name=place.name, kind=Section.Kind.COMMUNITY, division=place)
    center = UserFactory(username="center", role="street", unit=street, last_name="张", first_name="伟")
    cg_member = UserFactory(username="cgb", role="street", unit=street, section=cgb, last_name="马", first_name="骏")
    sq_member = UserFactory(username="sq", role="street", unit=street, section=committee)
    pa_member = UserFactory(username="pab", role="street", unit=street, section=pab)
    agent = UserFactory(username="agent1", role="agent", unit=unit("11-center"))
    category = Category.objects.get_or_create(code="E2E-CG", defaults={"name": "占道经营", "level": 3})[0]
    orders = []
    for title in ("商户占道经营", "楼道堆放杂物"):
        order = creation.order_create(
            call=CallFactory(received_at=timezone.now() - timedelta(hours=1), description=title),
            category=category,
            tier=UrgencyTier.objects.get(code="T7D"),
            lead_unit=street,
            actor=agent,
            title=title,
            street=division("110106003"),
            now=timezone.now() - timedelta(hours=1),
        )
        handling.order_sign(order, actor=center)
        orders.append(order)
    to_cgb, to_committee = orders

    # the center assigns one order to 城管办 (with its member) and one to the community committee
    _as(page, center)
    for order, section, person in ((to_cgb, cgb, cg_member), (to_committee, committee, None)):
        page.goto(f"/orders/{order.pk}/")
        _open_action(page, "assign")
        page.select_option("#id_assign-section", str(section.pk))
        if person:
            page.select_option("#id_assign-assignee", str(person.pk))
        page.fill("#id_assign-note", "请按职责办理")
        page.get_by_test_id("submit-assign").click()
        page.wait_for_load_state()
        assert section.name in page.get_by_test_id("internal-owner").inner_text()
    page.goto("/orders/?tab=in_progress")
    owners = page.get_by_test_id("owner").all_inner_texts()
    assert any("城管办" in o for o in owners) and any(committee.name in o for o in owners)

    # the 城管办 member sees only theirs, handles it and proposes closing
    _as(page, cg_member)
    page.goto("/orders/?tab=in_progress")
    assert page.get_by_role("link", name=to_cgb.number).is_visible()
    assert page.get_by_role("link", name=to_committee.number).count() == 0
    assert page.goto(f"/orders/{to_committee.pk}/").status == 404
    _propose(page, to_cgb, "已约谈商户，清理占道")

    # the committee does the same with its order
    _as(page, sq_member)
    _propose(page, to_committee, "已联系物业清理楼道")

    # a member of another section sees neither
    _as(page, pa_member)
    page.goto("/orders/?tab=in_progress")
    assert page.get_by_role("link", name=to_cgb.number).count() == 0
    assert page.get_by_role("link", name=to_committee.number).count() == 0
    assert page.goto(f"/orders/{to_cgb.pk}/").status == 404

    # the center sends the 城管办 one back and accepts the committee's
    _as(page, center)
    page.goto(f"/orders/{to_cgb.pk}/")
    _open_action(page, "review_proposal")
    page.check("#id_review_proposal-decision_1")
    page.fill("#id_review_proposal-reason", "请补充整改照片")
    page.get_by_test_id("submit-review_proposal").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("order-state").inner_text() == "办理中"
    page.goto(f"/orders/{to_committee.pk}/")
    _open_action(page, "review_proposal")
    page.check("#id_review_proposal-decision_0")
    page.get_by_test_id("submit-review_proposal").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("order-state").inner_text() == "已办结待回访"

    # the history shows each step with who did it
    kinds = page.get_by_test_id("history").locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.kind)")
    assert kinds == [
        "created",
        "signed",
        "assigned",
        "responded",
        "note",
        "close_proposed",
        "proposal_accepted",
        "closed",
    ]
    page.goto(f"/orders/{to_cgb.pk}/")
    history = page.get_by_test_id("history").inner_text()
    assert "中心退回拟办结" in history and "请补充整改照片" in history and "马骏" in history
    assert WorkOrder.objects.get(pk=to_cgb.pk).state == "signed"
    assert OrderEvent.objects.filter(order=to_cgb, kind="proposal_sent_back", actor=center).exists()
