import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from hotline.errors import AccessDenied, DomainError
from tests.factories import PASSWORD, UserFactory, unit
from workorders.callbacks import selectors as callback_selectors
from workorders.lifecycle import exclusions
from workorders.models import ExclusionEvidence, ExclusionRequest, Notification, OrderEvent, WorkOrder

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%evidence\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _png(name="录音截图.png", content=PNG):
    return SimpleUploadedFile(name, content, content_type="image/png")


def _request(order, actor, **kw):
    kw.setdefault("reason", "malicious")
    kw.setdefault("explanation", "同一号码一周内来电 40 次，诉求已多次答复。")
    kw.setdefault("files", [_png(), SimpleUploadedFile("通话记录.pdf", PDF)])
    return exclusions.exclusion_request(order, actor=actor, **kw)


def _state(order) -> tuple:
    order.refresh_from_db()
    return (
        order.excluded,
        list(ExclusionRequest.objects.filter(order=order).values_list("state", flat=True)),
        ExclusionEvidence.objects.count(),
        OrderEvent.objects.filter(order=order).count(),
    )


def test_it_goes_street_then_district_then_city(closed_order, xiluoyuan_handler, fengtai_manager, city_admin):
    # when: the lead street requests
    request = _request(closed_order, xiluoyuan_handler)
    # then
    assert request.state == "pending_district" and request.unit.code == "110106003"
    assert sorted(request.evidence.values_list("content_type", flat=True)) == ["application/pdf", "image/png"]
    assert Notification.objects.filter(user=fengtai_manager, kind="exclusion_requested").exists()
    # when: the district agrees
    exclusions.exclusion_decide_district(request, actor=fengtai_manager, approve=True, note="情况属实")
    request.refresh_from_db()
    closed_order.refresh_from_db()
    assert request.state == "pending_city" and closed_order.excluded is False
    assert Notification.objects.filter(user=city_admin, kind="exclusion_pending_city").exists()
    # when: the city approves
    exclusions.exclusion_decide_city(request, actor=city_admin, approve=True, note="同意剔除")
    # then
    request.refresh_from_db()
    closed_order.refresh_from_db()
    assert request.state == "approved" and closed_order.excluded is True
    assert request.city_decided_by == city_admin and request.district_decided_by == fengtai_manager
    kinds = list(closed_order.events.filter(kind__startswith="exclusion_").values_list("kind", flat=True))
    assert kinds == ["exclusion_requested", "exclusion_district_approved", "exclusion_approved"]
    assert Notification.objects.filter(user=xiluoyuan_handler, kind="exclusion_approved").exists()


def test_the_city_revokes_an_approved_exclusion_with_a_reason(
    closed_order, xiluoyuan_handler, fengtai_manager, city_admin
):
    # given
    request = _request(closed_order, xiluoyuan_handler)
    exclusions.exclusion_decide_district(request, actor=fengtai_manager, approve=True)
    exclusions.exclusion_decide_city(request, actor=city_admin, approve=True)
    # a reason is required
    with pytest.raises(DomainError):
        exclusions.exclusion_revoke(request, actor=city_admin, note=" ")
    # the district may not revoke
    with pytest.raises(AccessDenied):
        exclusions.exclusion_revoke(request, actor=fengtai_manager, note="不应剔除")
    closed_order.refresh_from_db()
    assert closed_order.excluded is True
    # when
    exclusions.exclusion_revoke(request, actor=city_admin, note="复核发现市民诉求合理")
    # then
    request.refresh_from_db()
    closed_order.refresh_from_db()
    assert request.state == "revoked" and request.revoke_note == "复核发现市民诉求合理"
    assert closed_order.excluded is False
    assert closed_order.events.last().kind == "exclusion_revoked"
    # and the unit may ask again
    assert _request(closed_order, xiluoyuan_handler).state == "pending_district"


def test_a_rejection_needs_a_note_and_leaves_the_order_counted(closed_order, xiluoyuan_handler, fengtai_manager):
    request = _request(closed_order, xiluoyuan_handler)
    with pytest.raises(DomainError):
        exclusions.exclusion_decide_district(request, actor=fengtai_manager, approve=False, note="")
    exclusions.exclusion_decide_district(request, actor=fengtai_manager, approve=False, note="证据不足")
    request.refresh_from_db()
    closed_order.refresh_from_db()
    assert request.state == "rejected" and closed_order.excluded is False
    assert Notification.objects.filter(user=xiluoyuan_handler, kind="exclusion_rejected").exists()


def test_the_city_rejects_at_the_city_stage(closed_order, xiluoyuan_handler, fengtai_manager, city_admin):
    request = _request(closed_order, xiluoyuan_handler)
    exclusions.exclusion_decide_district(request, actor=fengtai_manager, approve=True)
    exclusions.exclusion_decide_city(request, actor=city_admin, approve=False, note="不属于恶意来电")
    request.refresh_from_db()
    closed_order.refresh_from_db()
    assert request.state == "rejected" and closed_order.excluded is False


@pytest.mark.parametrize(
    "role_fixture", ["youanmen_handler", "water_dept_handler", "fengtai_manager", "agent", "city_admin"]
)
def test_only_the_lead_unit_may_request(request, role_fixture, closed_order):
    actor = request.getfixturevalue(role_fixture)
    before = _state(closed_order)
    with pytest.raises(AccessDenied):
        _request(closed_order, actor)
    assert _state(closed_order) == before


def test_one_request_at_a_time(closed_order, xiluoyuan_handler):
    _request(closed_order, xiluoyuan_handler)
    before = _state(closed_order)
    with pytest.raises(DomainError):
        _request(closed_order, xiluoyuan_handler)
    assert _state(closed_order) == before


def test_only_the_orders_district_decides_at_the_district_stage(
    closed_order, xiluoyuan_handler, haidian_manager, city_admin, agent
):
    exclusion = _request(closed_order, xiluoyuan_handler)
    before = _state(closed_order)
    for actor in (haidian_manager, city_admin, agent, xiluoyuan_handler):
        with pytest.raises(AccessDenied):
            exclusions.exclusion_decide_district(exclusion, actor=actor, approve=True)
    # the city cannot skip the district either
    with pytest.raises(DomainError):
        exclusions.exclusion_decide_city(exclusion, actor=city_admin, approve=True)
    assert _state(closed_order) == before


def test_only_the_city_decides_at_the_city_stage(closed_order, xiluoyuan_handler, fengtai_manager, agent):
    exclusion = _request(closed_order, xiluoyuan_handler)
    exclusions.exclusion_decide_district(exclusion, actor=fengtai_manager, approve=True)
    before = _state(closed_order)
    for actor in (fengtai_manager, agent, xiluoyuan_handler):
        with pytest.raises(AccessDenied):
            exclusions.exclusion_decide_city(exclusion, actor=actor, approve=True)
    # nor can the district decide again
    with pytest.raises(DomainError):
        exclusions.exclusion_decide_district(exclusion, actor=fengtai_manager, approve=True)
    assert _state(closed_order) == before


@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("证据.png", b"MZ\x90\x00 this is an executable"),  # content is not a PNG
        SimpleUploadedFile("证据.exe", b"MZ\x90\x00"),  # extension not allowed
        SimpleUploadedFile("证据.pdf", PNG),  # a PNG named .pdf
        SimpleUploadedFile("空.pdf", b""),
    ],
    ids=["fake-png", "exe", "mismatch", "empty"],
)
def test_bad_evidence_is_refused_and_nothing_is_stored(closed_order, xiluoyuan_handler, upload):
    before = _state(closed_order)
    with pytest.raises(DomainError):
        _request(closed_order, xiluoyuan_handler, files=[_png(), upload])
    assert _state(closed_order) == before


def test_evidence_over_the_size_limit_is_refused(closed_order, xiluoyuan_handler, settings):
    settings.ORDER_ATTACHMENT_MAX_BYTES = 1024
    before = _state(closed_order)
    with pytest.raises(DomainError):
        _request(closed_order, xiluoyuan_handler, files=[_png(content=PNG + b"\x00" * 2048)])
    assert _state(closed_order) == before


def test_evidence_is_limited_to_10_mb_by_default(closed_order, xiluoyuan_handler):
    big = _png(content=PNG + b"\x00" * (10 * 1024 * 1024))
    with pytest.raises(DomainError):
        _request(closed_order, xiluoyuan_handler, files=[big])


# --- who sees what -------------------------------------------------------------------------------------
def test_each_role_sees_its_own_exclusions(
    closed_order, xiluoyuan_handler, youanmen_handler, fengtai_manager, haidian_manager, city_admin
):
    exclusion = _request(closed_order, xiluoyuan_handler)
    seen = {
        "street": xiluoyuan_handler,
        "other street": youanmen_handler,
        "district": fengtai_manager,
        "other district": haidian_manager,
        "city": city_admin,
    }
    visible = {
        name: callback_selectors.exclusion_list(user=user).filter(pk=exclusion.pk).exists()
        for name, user in seen.items()
    }
    assert visible == {
        "street": True,
        "other street": False,
        "district": True,
        "other district": False,
        "city": True,
    }


def test_evidence_is_served_only_to_those_who_see_the_request(
    client, closed_order, xiluoyuan_handler, youanmen_handler, fengtai_manager, haidian_manager
):
    exclusion = _request(closed_order, xiluoyuan_handler)
    evidence = exclusion.evidence.get(content_type="image/png")
    url = reverse("exclusion-evidence", args=[evidence.pk])
    expected = {xiluoyuan_handler: 200, fengtai_manager: 200, youanmen_handler: 404, haidian_manager: 404}
    for user, code in expected.items():
        client.login(username=user.username, password=PASSWORD)
        response = client.get(url)
        assert response.status_code == code, user.unit.name
        if code == 200:
            assert b"".join(response.streaming_content) == PNG
        client.logout()
    assert client.get(url).status_code == 302  # anonymous → login


def test_the_list_page_shows_pending_first(client, agent, xiluoyuan_handler, fengtai_manager, city_admin):
    from tests.callbacks.conftest import close, make_order

    done_order = close(make_order(agent))
    rejected = _request(done_order, xiluoyuan_handler)
    exclusions.exclusion_decide_district(rejected, actor=fengtai_manager, approve=False, note="不同意")
    pending = _request(close(make_order(agent)), xiluoyuan_handler)
    rows = list(callback_selectors.exclusion_list(user=city_admin))
    assert [r.pk for r in rows] == [pending.pk, rejected.pk]
    client.login(username=fengtai_manager.username, password=PASSWORD)
    response = client.get(reverse("exclusion-list"))
    assert response.status_code == 200
    assert response.text.index(pending.order.number) < response.text.index(rejected.order.number)


def test_the_pages_take_a_request_through_all_stages(
    client, closed_order, xiluoyuan_handler, fengtai_manager, city_admin
):
    # street files it on the page, with evidence
    client.login(username=xiluoyuan_handler.username, password=PASSWORD)
    response = client.post(
        reverse("exclusion-new"),
        {"order": closed_order.number, "reason": "unreasonable", "explanation": "要求超出政策", "evidence": [_png()]},
    )
    exclusion = ExclusionRequest.objects.get(order=closed_order)
    assert response.status_code == 302 and response["Location"] == reverse("exclusion-detail", args=[exclusion.pk])
    client.logout()
    # district agrees
    client.login(username=fengtai_manager.username, password=PASSWORD)
    detail = client.get(reverse("exclusion-detail", args=[exclusion.pk]))
    assert 'data-testid="decide-panel"' in detail.text
    client.post(reverse("exclusion-decide", args=[exclusion.pk]), {"decision": "approve", "note": "属实"})
    client.logout()
    # city approves
    client.login(username=city_admin.username, password=PASSWORD)
    client.post(reverse("exclusion-decide", args=[exclusion.pk]), {"decision": "approve", "note": "同意"})
    exclusion.refresh_from_db()
    assert exclusion.state == "approved" and WorkOrder.objects.get(pk=closed_order.pk).excluded is True
    detail = client.get(reverse("exclusion-detail", args=[exclusion.pk]))
    assert 'data-testid="order-excluded"' in detail.text


def test_the_request_page_refuses_another_streets_order(client, closed_order, youanmen_handler):
    client.login(username=youanmen_handler.username, password=PASSWORD)
    response = client.post(
        reverse("exclusion-new"), {"order": closed_order.number, "reason": "unreasonable", "explanation": "x"}
    )
    assert response.status_code == 400 and "未找到该工单" in response.text
    assert not ExclusionRequest.objects.exists()


def test_a_colleague_in_the_lead_unit_may_request(closed_order, xiluoyuan_colleague):
    assert _request(closed_order, xiluoyuan_colleague).state == "pending_district"


def test_a_department_leading_an_order_may_request(agent):
    from tests.callbacks.conftest import category, close
    from tests.factories import CallFactory
    from workorders.lifecycle import creation as transitions
    from workorders.models import UrgencyTier

    order = transitions.order_create(
        call=CallFactory(),
        category=category(),
        tier=UrgencyTier.objects.get(code="T7D"),
        lead_unit=unit("110106-water"),
        actor=agent,
        title="自来水管爆裂",
    )
    close(order)
    dept = UserFactory(role="department", unit=unit("110106-water"))
    assert _request(order, dept).state == "pending_district"


def _panel(user, order) -> str:
    from django.template import Context, Template
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = user
    return Template("{% load callback_tags %}{% order_exclusions order %}").render(
        Context({"request": request, "order": order})
    )


def test_the_order_panel_offers_the_request_to_the_lead_unit_only(closed_order, xiluoyuan_handler, youanmen_handler):
    assert 'data-testid="exclusion-request-link"' in _panel(xiluoyuan_handler, closed_order)
    assert 'data-testid="exclusion-request-link"' not in _panel(youanmen_handler, closed_order)


def test_the_order_panel_shows_the_request_and_the_exclusion(
    closed_order, xiluoyuan_handler, fengtai_manager, city_admin
):
    exclusion = _request(closed_order, xiluoyuan_handler)
    html = _panel(fengtai_manager, closed_order)
    assert "待区级审核" in html and f"/exclusions/{exclusion.pk}/" in html
    assert 'data-testid="exclusion-request-link"' not in _panel(xiluoyuan_handler, closed_order)  # one at a time
    exclusions.exclusion_decide_district(exclusion, actor=fengtai_manager, approve=True)
    exclusions.exclusion_decide_city(exclusion, actor=city_admin, approve=True)
    closed_order.refresh_from_db()
    assert "已剔除考核" in _panel(city_admin, closed_order)
