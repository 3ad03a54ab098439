"""二次派单: a street's center assigns orders to its sections and community committees; members see
and handle only theirs and propose closing; the center reviews. Real division data, real transitions."""

from datetime import timedelta

import pytest
from django.utils import timezone

from districts.models import Division, Section
from hotline import access
from hotline.errors import AccessDenied, DomainError
from tests.factories import UserFactory, unit
from workorders.handling import selectors
from workorders.lifecycle import assignments, handling, sweep
from workorders.models import Assignment, CloseProposal, Notification, OrderEvent, OrderState

XILUOYUAN = "110106003"


@pytest.fixture
def cgb(db):
    return Section.objects.create(unit=unit(XILUOYUAN), name="城管办")


@pytest.fixture
def community(db):
    division = Division.objects.filter(parent__code=XILUOYUAN, level=Division.Level.COMMUNITY).order_by("code")[0]
    return Section.objects.create(
        unit=unit(XILUOYUAN), name=division.name, kind=Section.Kind.COMMUNITY, division=division
    )


@pytest.fixture
def cgb_member(cgb):
    return UserFactory(role="street", unit=unit(XILUOYUAN), section=cgb)


@pytest.fixture
def community_member(community):
    return UserFactory(role="street", unit=unit(XILUOYUAN), section=community)


@pytest.fixture
def signed_order(make_order, xiluoyuan_handler):
    def make(**kw):
        order = make_order(**kw)
        handling.order_sign(order, actor=xiluoyuan_handler)
        order.refresh_from_db()
        return order

    return make


def _respond(order, user):
    now = timezone.now()
    handling.order_respond(order, actor=user, contacted_at=now, method="phone", summary="已联系")


def test_the_center_assigns_and_the_member_sees_only_theirs(
    client, signed_order, xiluoyuan_handler, cgb, cgb_member, community, community_member
):
    mine, theirs, unassigned = signed_order(), signed_order(), signed_order()
    due = timezone.now() + timedelta(days=1)
    assignments.order_assign(mine, actor=xiluoyuan_handler, section=cgb, assignee=cgb_member, due_at=due, note="请办理")
    assignments.order_assign(theirs, actor=xiluoyuan_handler, section=community)
    mine.refresh_from_db()
    assert (mine.section_id, mine.assignee_id, mine.internal_due_at) == (cgb.pk, cgb_member.pk, due)
    event = OrderEvent.objects.get(order=mine, kind="assigned")
    assert event.actor == xiluoyuan_handler and event.data["section"] == cgb.pk
    assert Notification.objects.filter(user=cgb_member, order=mine, kind="internal_assigned").exists()
    assert not Notification.objects.filter(user=community_member, order=mine).exists()

    # the member: their order only, in the inbox, the order page, the API and the calls
    assert set(access.visible_orders(cgb_member).values_list("pk", flat=True)) == {mine.pk}
    assert set(access.visible_calls(cgb_member).values_list("pk", flat=True)) == {mine.call_id}
    client.force_login(cgb_member)
    html = client.get("/orders/?tab=in_progress").content.decode()
    assert mine.number in html and theirs.number not in html and unassigned.number not in html
    assert client.get(f"/orders/{theirs.pk}/").status_code == 404
    assert client.get(f"/orders/{unassigned.pk}/").status_code == 404
    api = client.get("/api/v1/orders/?tab=in_progress").json()
    assert [r["id"] for r in api["results"]] == [mine.pk] and api["tab_counts"]["in_progress"] == 1
    assert client.get(f"/api/v1/orders/{theirs.pk}/").status_code == 404
    assert client.get(f"/orders/{theirs.pk}/print/").status_code == 404
    # the "mine" filter
    assert mine.number in client.get("/orders/?tab=in_progress&owner=me").content.decode()

    # the center: all three, with the internal owner and the load per section
    client.force_login(xiluoyuan_handler)
    html = client.get("/orders/?tab=in_progress").content.decode()
    assert all(o.number in html for o in (mine, theirs, unassigned))
    assert "城管办" in html and 'data-testid="internal-load"' in html
    only_cgb = client.get(f"/orders/?tab=in_progress&owner={cgb.pk}").content.decode()
    assert mine.number in only_cgb and theirs.number not in only_cgb
    none = client.get("/orders/?tab=in_progress&owner=none").content.decode()
    assert unassigned.number in none and mine.number not in none


def test_a_member_handles_and_proposes_the_center_sends_back_then_accepts(
    client, signed_order, xiluoyuan_handler, cgb, cgb_member
):
    order = signed_order()
    assignments.order_assign(order, actor=xiluoyuan_handler, section=cgb)
    # the member may contact, note and propose; not sign, close, assign, return or whistle
    client.force_login(cgb_member)
    actions = client.get(f"/api/v1/orders/{order.pk}/").json()["actions"]
    assert set(actions) == {"respond", "note"}
    _respond(order, cgb_member)
    handling.order_add_note(order, actor=cgb_member, note="已到现场")
    assert Assignment.objects.get(order=order).response_seconds is not None
    with pytest.raises(AccessDenied):
        handling.order_close(order, actor=cgb_member, result="resolved", result_note="a", action_taken="b")
    r = client.post(
        f"/api/v1/orders/{order.pk}/propose-close/",
        {"result": "resolved", "result_note": "已解决", "action_taken": "清理了杂物"},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    order.refresh_from_db()
    assert order.state == OrderState.SIGNED
    # a second proposal while one waits is refused
    r = client.post(
        f"/api/v1/orders/{order.pk}/propose-close/",
        {"result": "resolved", "result_note": "x", "action_taken": "y"},
        content_type="application/json",
    )
    assert r.status_code == 400 and CloseProposal.objects.filter(order=order).count() == 1
    assert Notification.objects.filter(user=xiluoyuan_handler, kind="internal_proposal").exists()

    # the center sends it back: a reason is required
    client.force_login(xiluoyuan_handler)
    with pytest.raises(DomainError):
        assignments.order_review_proposal(order, actor=xiluoyuan_handler, accept=False, reason="")
    r = client.post(
        f"/orders/{order.pk}/review_proposal/",
        {"review_proposal-decision": "send_back", "review_proposal-reason": "请补充照片"},
    )
    assert r.status_code == 302
    assert CloseProposal.objects.get(order=order).state == CloseProposal.State.SENT_BACK
    assert Notification.objects.filter(user=cgb_member, kind="internal_review").exists()

    # proposes again; the center accepts → the order is closed with the proposal's answer
    assignments.order_propose_close(
        order, actor=cgb_member, result="partly", result_note="已部分解决", action_taken="补充了照片"
    )
    assignments.order_review_proposal(order, actor=xiluoyuan_handler, accept=True)
    order.refresh_from_db()
    assert order.state == OrderState.CLOSED and order.result == "partly" and order.result_note == "已部分解决"
    kinds = list(OrderEvent.objects.filter(order=order).order_by("at", "id").values_list("kind", flat=True))
    assert kinds[-6:] == [
        "note",
        "close_proposed",
        "proposal_sent_back",
        "close_proposed",
        "proposal_accepted",
        "closed",
    ]
    assert Assignment.objects.get(order=order).end == Assignment.End.CLOSED
    # a proposal on a closed order is refused and writes nothing
    with pytest.raises(DomainError):
        assignments.order_propose_close(order, actor=cgb_member, result="resolved", result_note="a", action_taken="b")
    assert CloseProposal.objects.filter(order=order).count() == 2
    html = client.get(f"/orders/{order.pk}/").content.decode()
    for label in ("内部派发", "科室/社区拟办结", "中心退回拟办结", "中心同意办结"):
        assert label in html


def test_bad_assignments_are_refused_and_change_nothing(
    client, signed_order, make_order, xiluoyuan_handler, youanmen_handler, cgb, cgb_member
):
    order = signed_order()
    other_unit_section = Section.objects.create(unit=unit("110106001"), name="城管办")
    outsider = UserFactory(role="street", unit=unit("110106001"))
    before = OrderEvent.objects.filter(order=order).count()
    for kwargs in ({"section": other_unit_section}, {"assignee": outsider}, {}):
        with pytest.raises(DomainError):
            assignments.order_assign(order, actor=xiluoyuan_handler, **kwargs)
    # through the page: a clear message, 400, nothing changed
    client.force_login(xiluoyuan_handler)
    r = client.post(f"/orders/{order.pk}/assign/", {"assign-section": other_unit_section.pk})
    assert r.status_code == 400 and "不是本单位启用的科室/社区" in r.content.decode()
    r = client.post(f"/api/v1/orders/{order.pk}/assign/", {"assignee": outsider.pk}, content_type="application/json")
    assert r.status_code == 400 and "不是本单位的承办人员" in r.json()["detail"]
    # an order the user cannot see: 404, and the transition refuses too
    theirs = make_order(lead="110106001", street="110106001")
    client.force_login(youanmen_handler)
    assert client.post(f"/orders/{order.pk}/assign/", {"assign-section": cgb.pk}).status_code == 404
    with pytest.raises(AccessDenied):
        assignments.order_assign(order, actor=youanmen_handler, section=cgb)
    # a member may not assign, nor may a district manager
    with pytest.raises(AccessDenied):
        assignments.order_assign(order, actor=cgb_member, section=cgb)
    order.refresh_from_db()
    assert order.section_id is None and order.assignee_id is None
    assert OrderEvent.objects.filter(order=order).count() == before
    assert not Assignment.objects.filter(order__in=[order, theirs]).exists()


def test_reassign_and_take_back_end_the_assignment_and_the_member_loses_sight(
    signed_order, xiluoyuan_handler, cgb, cgb_member, community, community_member
):
    order = signed_order()
    assignments.order_assign(order, actor=xiluoyuan_handler, section=cgb)
    assignments.order_assign(order, actor=xiluoyuan_handler, section=community, assignee=community_member)
    assert list(Assignment.objects.filter(order=order).values_list("end", flat=True)) == ["reassigned", ""]
    assert not access.visible_orders(cgb_member).filter(pk=order.pk).exists()
    assert access.visible_orders(community_member).filter(pk=order.pk).exists()
    assert Notification.objects.filter(user=cgb_member, kind="internal_reassigned").exists()
    assignments.order_take_back(order, actor=xiluoyuan_handler, reason="中心直接办理")
    order.refresh_from_db()
    assert order.section_id is None and not access.visible_orders(community_member).filter(pk=order.pk).exists()
    with pytest.raises(DomainError):  # nothing to take back now
        assignments.order_take_back(order, actor=xiluoyuan_handler, reason="再收回")
    kinds = set(OrderEvent.objects.filter(order=order).values_list("kind", flat=True))
    assert {"assigned", "reassigned", "taken_back"} <= kinds


def test_a_return_that_reroutes_the_order_ends_the_assignment(
    signed_order, xiluoyuan_handler, fengtai_manager, cgb, cgb_member
):
    order = signed_order()
    assignments.order_assign(order, actor=xiluoyuan_handler, section=cgb)
    handling.order_request_return(order, actor=xiluoyuan_handler, reason_code="not_ours", reason="非本辖区")
    handling.order_rule_return(order, actor=fengtai_manager, accept=True, ruling="改派", reroute_unit=unit("110106001"))
    order.refresh_from_db()
    assert order.section_id is None and Assignment.objects.get(order=order).end == Assignment.End.LEFT_UNIT
    assert not access.visible_orders(cgb_member).exists()


def test_the_internal_due_time_is_warned_then_marked_overdue_once(signed_order, xiluoyuan_handler, cgb, cgb_member):
    order = signed_order()
    now = timezone.now()
    assignments.order_assign(order, actor=xiluoyuan_handler, section=cgb, due_at=now + timedelta(hours=4), now=now)
    assert sweep.run(now=now + timedelta(hours=3, minutes=30))["internal_warning"] == 1
    result = sweep.run(now=now + timedelta(hours=5))
    assert result["internal_overdue"] == 1 and result["internal_warning"] == 0
    assert sweep.run(now=now + timedelta(hours=6))["internal_overdue"] == 0
    kinds = list(OrderEvent.objects.filter(order=order, kind__startswith="internal").values_list("kind", flat=True))
    assert kinds == ["internal_warned", "internal_overdue"]
    assert Notification.objects.filter(user=xiluoyuan_handler, kind="internal_overdue").exists()
    assert Notification.objects.filter(user=cgb_member, kind="internal_overdue").exists()
    # the member's binding clock is the internal one, red
    order.refresh_from_db()
    clock = selectors.clock_of(order, now + timedelta(hours=5), user=cgb_member)
    assert (clock.which, clock.css) == ("internal", "overdue")
    assert selectors.clock_of(order, now + timedelta(hours=5), user=xiluoyuan_handler).which == "response"


def test_an_internal_due_time_after_the_resolution_deadline_is_refused(signed_order, xiluoyuan_handler, cgb):
    order = signed_order()
    with pytest.raises(DomainError):
        assignments.order_assign(
            order, actor=xiluoyuan_handler, section=cgb, due_at=order.resolution_deadline + timedelta(hours=1)
        )
    assert not Assignment.objects.exists()


def test_the_scorecard_per_section_is_computed_and_only_for_the_center(
    client, signed_order, xiluoyuan_handler, cgb, cgb_member, community, fengtai_manager, agent
):
    now = timezone.now()
    a, b, c = signed_order(), signed_order(), signed_order()
    for order, minutes in ((a, 10), (b, 30), (c, 50)):
        assignments.order_assign(order, actor=xiluoyuan_handler, section=cgb, now=now - timedelta(hours=2))
        handling.order_add_note(
            order, actor=cgb_member, note="已处理", now=now - timedelta(hours=2) + timedelta(minutes=minutes)
        )
    assignments.order_assign(c, actor=xiluoyuan_handler, section=community, now=now - timedelta(hours=1))
    rows = {
        r["section"].name: r for r in selectors.internal_scorecard(xiluoyuan_handler, since=now - timedelta(days=1))
    }
    cg = rows["城管办"]
    assert (cg["assigned"], cg["load"], cg["reassigned"]) == (3, 2, 1)
    assert cg["median_response"] == timedelta(minutes=30)
    assert rows[community.name]["load"] == 1 and rows[community.name]["median_response"] is None
    client.force_login(xiluoyuan_handler)
    html = client.get("/orders/sections/scorecard/").content.decode()
    assert "城管办" in html and "30分钟" in html and "33%" in html
    for user in (cgb_member, fengtai_manager, agent):
        client.force_login(user)
        assert client.get("/orders/sections/scorecard/").status_code == 403
        assert client.get("/orders/sections/").status_code == 403


def test_the_center_keeps_its_sections_communities_and_members(client, xiluoyuan_handler, youanmen_handler):
    client.force_login(xiluoyuan_handler)
    r = client.post(
        "/orders/sections/", {"op": "add", "new-name": "城管办", "new-kind": "section", "new-is_active": "on"}
    )
    assert r.status_code == 302
    r = client.post("/orders/sections/", {"op": "add", "new-name": "城管办", "new-kind": "section"})
    assert r.status_code == 400 and "已有名为" in r.content.decode()
    assert client.post("/orders/sections/", {"op": "import"}).status_code == 302
    communities = Division.objects.filter(parent__code=XILUOYUAN, level=Division.Level.COMMUNITY).count()
    assert Section.objects.filter(unit=unit(XILUOYUAN), kind="community").count() == communities > 0
    client.post("/orders/sections/", {"op": "import"})  # idempotent
    assert Section.objects.filter(unit=unit(XILUOYUAN), kind="community").count() == communities
    section = Section.objects.get(unit=unit(XILUOYUAN), name="城管办")
    colleague = UserFactory(role="street", unit=unit(XILUOYUAN))
    r = client.post("/orders/sections/", {"op": "member", "member": colleague.pk, "section": section.pk})
    assert r.status_code == 302
    colleague.refresh_from_db()
    assert colleague.section == section
    # another unit's section or user: not found / refused, nothing changes
    other = Section.objects.create(unit=unit("110106001"), name="平安办")
    assert (
        client.post("/orders/sections/", {"op": "member", "member": youanmen_handler.pk, "section": ""}).status_code
        == 404
    )
    r = client.post("/orders/sections/", {"op": "member", "member": colleague.pk, "section": other.pk})
    assert r.status_code == 400
    colleague.refresh_from_db()
    assert colleague.section == section
    r = client.post(
        "/orders/sections/",
        {"op": "edit", "section": other.pk, f"s{other.pk}-name": "x", f"s{other.pk}-kind": "section"},
    )
    assert r.status_code == 404 and Section.objects.get(pk=other.pk).name == "平安办"
    # a department cannot import communities
    dept = UserFactory(role="department", unit=unit("110106-water"))
    client.force_login(dept)
    assert client.post("/orders/sections/", {"op": "import"}).status_code == 400


def test_a_member_sees_no_unit_figures_exclusions_or_co_handled_orders(
    make_order, signed_order, xiluoyuan_handler, cgb_member
):
    assert not access.may_view_unit_figures(cgb_member, unit(XILUOYUAN))
    assert access.may_view_unit_figures(xiluoyuan_handler, unit(XILUOYUAN))
    order = make_order(lead="110106001", street="110106001")
    from workorders.models import OrderParticipant

    OrderParticipant.objects.create(order=order, unit=unit(XILUOYUAN), role=OrderParticipant.Role.CO_HANDLER)
    assert access.assisting_orders(xiluoyuan_handler).filter(pk=order.pk).exists()
    assert not access.assisting_orders(cgb_member).exists()
    assert not access.may_request_exclusion(cgb_member, signed_order())


def test_the_binding_clock_and_badges(client, make_order, xiluoyuan_handler):
    order = make_order(tier="T2H")
    clock = selectors.clock_of(order)
    assert clock.which == "response" and "响应剩余" in clock.label
    handling.order_sign(order, actor=xiluoyuan_handler)
    _respond(order, xiluoyuan_handler)
    order.refresh_from_db()
    assert selectors.clock_of(order).which == "resolution"
    order.round, order.duplicate_count = 2, 3
    order.save(update_fields=["round", "duplicate_count"])
    client.force_login(xiluoyuan_handler)
    html = client.get("/orders/?tab=in_progress").content.decode()
    assert 'data-testid="badge-round"' in html and 'data-testid="badge-repeat"' in html


def test_the_print_view_masks_the_caller_as_the_viewer_sees_it(client, make_order, xiluoyuan_handler, agent):
    order = make_order()
    handling.order_add_note(order, actor=xiluoyuan_handler, note="现场照片")
    client.force_login(xiluoyuan_handler)
    html = client.get(f"/orders/{order.pk}/print/").content.decode()
    phone = order.call.caller_phone
    assert order.number in html and phone not in html and phone[-4:] in html and "现场照片" in html
    client.force_login(agent)
    assert phone in client.get(f"/orders/{order.pk}/print/").content.decode()


def test_closing_while_a_whistled_department_has_not_reported_needs_a_confirmed_reason(
    client, signed_order, xiluoyuan_handler
):
    order = signed_order()
    _respond(order, xiluoyuan_handler)
    handling.order_whistle(
        order,
        actor=xiluoyuan_handler,
        to_unit=unit("110106-water"),
        level="daily",
        reason="请水务局到场",
        report_by=timezone.now() + timedelta(hours=2),
    )
    client.force_login(xiluoyuan_handler)
    form = {"close-result": "resolved", "close-result_note": "已解决", "close-action_taken": "处理完毕"}
    r = client.post(f"/orders/{order.pk}/close/", form)
    assert r.status_code == 400 and "吹哨部门尚未报到：丰台区水务局" in r.content.decode()
    r = client.post(f"/orders/{order.pk}/close/", {**form, "close-confirm_open_whistles": "on"})
    assert r.status_code == 400  # a reason is needed too
    order.refresh_from_db()
    assert order.state == OrderState.SIGNED
    r = client.post(
        f"/orders/{order.pk}/close/",
        {**form, "close-confirm_open_whistles": "on", "close-whistle_reason": "水务局电话确认已修复"},
    )
    assert r.status_code == 302
    event = OrderEvent.objects.get(order=order, kind="closed")
    assert event.data["open_whistles"] == ["丰台区水务局"] and event.data["whistle_reason"] == "水务局电话确认已修复"


def test_a_member_gets_the_orders_desk_but_not_the_units_figures_or_calls(
    client, signed_order, xiluoyuan_handler, cgb, cgb_member
):
    mine, other = signed_order(), signed_order()
    assignments.order_assign(mine, actor=xiluoyuan_handler, section=cgb)
    client.force_login(cgb_member)
    assert client.get("/assessment/", follow=True).status_code == 403
    assert client.get(f"/assessment/units/{unit(XILUOYUAN).pk}/").status_code == 403
    assert client.get("/exclusions/new/").status_code == 403
    calls = client.get("/api/v1/calls/").json()
    ids = {c["id"] for c in calls["results"]}
    assert mine.call_id in ids and other.call_id not in ids
    nav = client.get("/orders/").content.decode()
    assert "/assessment/" not in nav


def test_the_center_sees_which_orders_wait_for_its_review_and_a_member_lands_on_its_work(
    client, signed_order, xiluoyuan_handler, cgb, cgb_member
):
    # given an order assigned to 城管办 whose member proposed closing, and one assigned, not proposed
    proposed, quiet = signed_order(), signed_order()
    for order in (proposed, quiet):
        assignments.order_assign(order, actor=xiluoyuan_handler, section=cgb)
    _respond(proposed, cgb_member)
    assignments.order_propose_close(
        proposed, actor=cgb_member, result="resolved", result_note="已修复", action_taken="现场维修"
    )
    # the center's list marks exactly the order waiting for its review
    client.force_login(xiluoyuan_handler)
    html = client.get("/orders/?tab=in_progress").content.decode()
    assert html.count('data-testid="badge-proposal"') == 1
    row = html[html.index(proposed.number) : html.index("</tr>", html.index(proposed.number))]
    assert 'data-testid="badge-proposal"' in row
    # a member, who never signs, lands on the tab where the work is, not on an empty 待签收
    client.force_login(cgb_member)
    html = client.get("/orders/").content.decode()
    assert 'class="tab tab-in_progress active"' in html and quiet.number in html


def test_a_held_back_action_says_why_on_the_page(client, signed_order, xiluoyuan_handler, cgb, cgb_member):
    order = signed_order()
    assignments.order_assign(order, actor=xiluoyuan_handler, section=cgb)
    client.force_login(cgb_member)
    html = client.get(f"/orders/{order.pk}/").content.decode()
    # 拟办结 is not offered before the caller was contacted, and the page says so
    assert 'data-testid="action-propose_close"' not in html
    waiting = html[html.index('data-testid="waiting-actions"') :]
    assert "拟办结" in waiting and "请先记录与市民的联系" in waiting
    _respond(order, cgb_member)
    html = client.get(f"/orders/{order.pk}/").content.decode()
    assert 'data-testid="action-propose_close"' in html and 'data-testid="waiting-actions"' not in html


def test_the_print_view_shows_photos_and_names_in_the_viewers_language(client, signed_order, xiluoyuan_handler):
    from django.core.files.uploadedfile import SimpleUploadedFile

    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
        b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    order = signed_order()
    photo = SimpleUploadedFile("现场.png", png, content_type="image/png")
    handling.order_add_note(order, actor=xiluoyuan_handler, note="现场照片", files=[photo])
    client.force_login(xiluoyuan_handler)
    html = client.get(f"/orders/{order.pk}/print/").content.decode()
    att = order.attachments.get()
    assert f'src="/orders/attachments/{att.pk}/"' in html and 'data-testid="print-photo"' in html
    # in English the tier is named in English (the tiers are seeded with English names)
    client.cookies["django_language"] = "en"
    html = client.get(f"/orders/{order.pk}/print/").content.decode()
    assert order.tier.name_en and order.tier.name_en in html and order.tier.name not in html
