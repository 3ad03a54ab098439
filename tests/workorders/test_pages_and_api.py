import io
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from hotline.models import PersonalDataAccess
from tests.factories import unit
from workorders.lifecycle import handling as transitions
from workorders.models import OrderAttachment, OrderEvent, WorkOrder

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PDF = b"%PDF-1.4\n%..." + b"\x00" * 64


def _docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


# --- inbox --------------------------------------------------------------------------------------
def test_it_shows_a_street_its_own_orders_with_tab_counts(client, make_order, xiluoyuan_handler):
    # given: two of ours (one signed), one of 右安门
    mine = make_order()
    signed = make_order()
    transitions.order_sign(signed, actor=xiluoyuan_handler)
    theirs = make_order(lead="110106001", street="110106001")
    client.force_login(xiluoyuan_handler)
    # when
    response = client.get("/orders/")
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert mine.number in html and signed.number not in html and theirs.number not in html
    assert 'data-count="to_sign">1<' in html and 'data-count="in_progress">1<' in html
    assert signed.number in client.get("/orders/?tab=in_progress").content.decode()


def test_the_overdue_and_due_soon_tabs_follow_the_clock(client, make_order, xiluoyuan_handler):
    overdue = make_order(tier="T2H", ago=timedelta(hours=25))
    due_soon = make_order(tier="T2H", ago=timedelta(hours=20))
    # the caller was contacted in time: the resolution clock binds, and it has not run out
    WorkOrder.objects.filter(pk=due_soon.pk).update(responded_at=due_soon.dispatched_at + timedelta(hours=1))
    fresh = make_order(tier="T2H")
    client.force_login(xiluoyuan_handler)
    counts = client.get("/orders/poll.json").json()["counts"]
    assert counts["overdue"] == 1 and counts["due_soon"] == 1 and counts["to_sign"] == 3
    html = client.get("/orders/?tab=overdue").content.decode()
    assert overdue.number in html and due_soon.number not in html and fresh.number not in html
    assert "clock-overdue" in html


def test_the_overdue_tab_counts_exactly_the_rows_marked_overdue(client, make_order, xiluoyuan_handler):
    # given: the response limit (2 h) ran out, the resolution limit (24 h) not yet; one in time; one
    # whose resolution ran out
    response_late = make_order(tier="T2H", ago=timedelta(hours=3))
    in_time = make_order(tier="T2H")
    resolution_late = make_order(tier="T2H", ago=timedelta(hours=30))
    WorkOrder.objects.filter(pk=resolution_late.pk).update(
        responded_at=resolution_late.dispatched_at + timedelta(hours=1)
    )
    client.force_login(xiluoyuan_handler)
    # then the tab's count, its rows and the red marks on the whole inbox are the same two orders
    counts = client.get("/orders/poll.json").json()["counts"]
    assert counts["overdue"] == 2
    overdue_tab = client.get("/orders/?tab=overdue").content.decode()
    assert response_late.number in overdue_tab and resolution_late.number in overdue_tab
    assert in_time.number not in overdue_tab
    everything = client.get("/orders/?tab=to_sign").content.decode()
    assert everything.count('class="clock clock-overdue" data-testid="clock"') == counts["overdue"]


def test_filters_narrow_the_list(client, make_order, xiluoyuan_handler):
    a = make_order(tier="T2H")
    b = make_order(tier="T7D")
    client.force_login(xiluoyuan_handler)
    from workorders.models import UrgencyTier

    html = client.get(f"/orders/?tier={UrgencyTier.objects.get(code='T2H').pk}").content.decode()
    assert a.number in html and b.number not in html
    html = client.get(f"/orders/?q={b.number}").content.decode()
    assert b.number in html and a.number not in html


def test_a_district_sees_its_district_and_not_another(client, make_order, fengtai_manager, haidian_manager):
    order = make_order()
    client.force_login(fengtai_manager)
    assert order.number in client.get("/orders/").content.decode()
    assert client.get(f"/orders/{order.pk}/").status_code == 200
    client.force_login(haidian_manager)
    assert order.number not in client.get("/orders/").content.decode()
    assert client.get(f"/orders/{order.pk}/").status_code == 404


def test_an_agent_without_a_unit_role_gets_no_supervision(client, agent):
    client.force_login(agent)
    assert client.get("/orders/supervision/").status_code == 403


# --- detail and actions -------------------------------------------------------------------------
def test_another_street_gets_404_on_detail_actions_and_api(client, make_order, youanmen_handler):
    order = make_order()
    client.force_login(youanmen_handler)
    assert client.get(f"/orders/{order.pk}/").status_code == 404
    assert client.post(f"/orders/{order.pk}/sign/").status_code == 404
    assert client.get(f"/api/v1/orders/{order.pk}/").status_code == 404
    assert client.post(f"/api/v1/orders/{order.pk}/sign/").status_code == 404
    order.refresh_from_db()
    assert order.state == "dispatched"


def test_the_page_signs_and_shows_history(client, make_order, xiluoyuan_handler):
    order = make_order()
    client.force_login(xiluoyuan_handler)
    response = client.post(f"/orders/{order.pk}/sign/")
    assert response.status_code == 302
    html = client.get(f"/orders/{order.pk}/").content.decode()
    assert "签收" in html and xiluoyuan_handler.display_name in html
    order.refresh_from_db()
    assert order.state == "signed"


def test_the_page_shows_a_domain_error_and_changes_nothing(client, signed_order, xiluoyuan_handler):
    client.force_login(xiluoyuan_handler)
    events = OrderEvent.objects.count()
    response = client.post(
        f"/orders/{signed_order.pk}/close/",
        {"close-result": "resolved", "close-result_note": "已处理", "close-action_taken": "维修"},
    )
    assert response.status_code == 400
    assert "请先记录与市民的联系" in response.content.decode()
    assert OrderEvent.objects.count() == events


def test_a_district_manager_cannot_sign_through_the_page(client, make_order, fengtai_manager):
    order = make_order()
    client.force_login(fengtai_manager)
    assert client.post(f"/orders/{order.pk}/sign/").status_code == 403
    order.refresh_from_db()
    assert order.state == "dispatched"


def test_the_phone_is_masked_and_the_reveal_is_logged(client, make_order, water_dept_handler, xiluoyuan_handler):
    order = make_order(lead="110106-water")
    phone = order.call.caller_phone
    client.force_login(water_dept_handler)
    html = client.get(f"/orders/{order.pk}/").content.decode()
    assert phone not in html and phone[-4:] in html
    assert f"/calls/{order.call_id}/reveal-phone/" in html  # the one reveal endpoint, shared with calls
    response = client.post(f"/calls/{order.call_id}/reveal-phone/")
    assert response.json()["phone"] == phone
    assert PersonalDataAccess.objects.filter(user=water_dept_handler, call=order.call).count() == 1


# --- attachments --------------------------------------------------------------------------------
def test_it_stores_checked_attachments_and_serves_them_only_to_those_who_see_the_order(
    client, signed_order, xiluoyuan_handler, youanmen_handler, fengtai_manager, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(xiluoyuan_handler)
    response = client.post(
        f"/orders/{signed_order.pk}/note/",
        {
            "note-note": "现场照片",
            "note-files": [
                SimpleUploadedFile("现场.png", PNG, content_type="image/png"),
                SimpleUploadedFile("说明.docx", _docx(), content_type="application/octet-stream"),
            ],
        },
    )
    assert response.status_code == 302
    atts = list(OrderAttachment.objects.filter(order=signed_order).order_by("id"))
    assert [a.content_type for a in atts] == [
        "image/png",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ]
    assert str(tmp_path) in atts[0].file.path
    download = client.get(f"/orders/attachments/{atts[0].pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG
    client.force_login(fengtai_manager)
    assert client.get(f"/orders/attachments/{atts[0].pk}/").status_code == 200
    client.force_login(youanmen_handler)
    assert client.get(f"/orders/attachments/{atts[0].pk}/").status_code == 404


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("virus.exe", b"MZ" + b"\x00" * 10, "类型不允许"),
        ("fake.png", b"GIF89a" + b"\x00" * 10, "内容与扩展名不符"),
        ("fake.pdf", JPG, "内容与扩展名不符"),
        ("script.jpg", b"<script>alert(1)</script>", "内容与扩展名不符"),
        ("fake.docx", b"PK\x03\x04" + b"\x00" * 30, "内容与扩展名不符"),
    ],
)
def test_it_refuses_bad_files_and_keeps_nothing(
    client, signed_order, xiluoyuan_handler, settings, tmp_path, name, content, message
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(xiluoyuan_handler)
    events = OrderEvent.objects.count()
    response = client.post(
        f"/orders/{signed_order.pk}/note/",
        {"note-note": "x", "note-files": [SimpleUploadedFile(name, content)]},
    )
    assert response.status_code == 400 and message in response.content.decode()
    assert OrderEvent.objects.count() == events and not OrderAttachment.objects.exists()
    assert not list(tmp_path.rglob("*.*"))


def test_it_refuses_files_over_the_size_limit(client, signed_order, xiluoyuan_handler, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.ORDER_ATTACHMENT_MAX_BYTES = 1024
    client.force_login(xiluoyuan_handler)
    response = client.post(
        f"/orders/{signed_order.pk}/note/",
        {"note-note": "x", "note-files": [SimpleUploadedFile("big.pdf", PDF + b"\x00" * 2000)]},
    )
    assert response.status_code == 400 and "大小上限" in response.content.decode()
    assert not OrderAttachment.objects.exists()


# --- API ----------------------------------------------------------------------------------------
def test_the_api_lists_the_inbox_with_tab_counts(client, make_order, xiluoyuan_handler):
    order = make_order()
    client.force_login(xiluoyuan_handler)
    body = client.get("/api/v1/orders/?tab=to_sign").json()
    assert [r["number"] for r in body["results"]] == [order.number]
    assert body["tab_counts"]["to_sign"] == 1
    assert body["results"][0]["clock"]["css"] in ("ok", "soon")


def test_the_api_runs_the_whole_flow_with_the_same_rules(
    client, make_order, xiluoyuan_handler, water_dept_handler, fengtai_manager
):
    order = make_order(ago=timedelta(hours=1))
    client.force_login(xiluoyuan_handler)
    base = f"/api/v1/orders/{order.pk}"
    assert client.post(f"{base}/sign/").json()["order"]["state"] == "signed"
    r = client.post(
        f"{base}/respond/",
        {"contacted_at": timezone.now().isoformat(), "method": "phone", "summary": "电话联系"},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    r = client.post(
        f"{base}/whistle/",
        {
            "to_unit": unit("110106-water").pk,
            "level": "emergency",
            "reason": "爆管",
            "report_by": (timezone.now() + timedelta(hours=1)).isoformat(),
        },
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    client.force_login(water_dept_handler)
    detail = client.get(f"{base}/").json()
    assert "report" in detail["actions"] and detail["caller_phone"] != order.call.caller_phone
    whistle_id = detail["whistles"][0]["id"]
    r = client.post(f"{base}/report/", {"whistle": whistle_id, "note": "已报到"}, content_type="application/json")
    assert r.status_code == 200, r.content
    client.force_login(xiluoyuan_handler)
    new_date = (timezone.localdate() + timedelta(days=30)).isoformat()
    r = client.post(f"{base}/extend/", {"new_date": new_date, "reason": "需施工"}, content_type="application/json")
    assert r.status_code == 200, r.content
    # an illegal move through the API: 400 with the message, nothing changed
    r = client.post(f"{base}/sign/")
    assert r.status_code == 400 and "不能执行此操作" in r.json()["detail"]
    client.force_login(fengtai_manager)
    r = client.post(
        f"{base}/rule-extension/", {"decision": "accept", "ruling": "同意"}, content_type="application/json"
    )
    assert r.status_code == 200, r.content
    client.force_login(xiluoyuan_handler)
    r = client.post(
        f"{base}/close/",
        {"result": "resolved", "result_note": "已修复", "action_taken": "更换管线"},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["order"]["state"] == "closed"
    kinds = list(WorkOrder.objects.get(pk=order.pk).events.values_list("kind", flat=True))
    assert kinds == [
        "created",
        "signed",
        "responded",
        "whistled",
        "whistle_reported",
        "extension_requested",
        "extension_approved",
        "closed",
    ]


def test_the_api_refuses_invalid_input_with_field_errors(client, signed_order, xiluoyuan_handler):
    client.force_login(xiluoyuan_handler)
    r = client.post(f"/api/v1/orders/{signed_order.pk}/respond/", {"method": "phone"}, content_type="application/json")
    assert r.status_code == 400 and "contacted_at" in r.json()["errors"]


def test_the_api_forbids_a_street_acting_on_a_co_handled_order_as_lead(
    client, signed_order, xiluoyuan_handler, youanmen_handler
):
    transitions.order_add_co_units(signed_order, actor=xiluoyuan_handler, units=[unit("110106001")])
    client.force_login(youanmen_handler)
    r = client.post(
        f"/api/v1/orders/{signed_order.pk}/close/",
        {"result": "resolved", "result_note": "x", "action_taken": "x"},
        content_type="application/json",
    )
    assert r.status_code == 403


def test_the_openapi_schema_documents_the_actions(client, city_admin):
    client.force_login(city_admin)
    schema = client.get("/api/v1/schema/").content.decode()
    assert "/api/v1/orders/{id}/rule-return/" in schema and "OrderAction_whistle" in schema


def test_notifications_api_and_page(client, make_order, xiluoyuan_handler):
    make_order()  # notifies 西罗园's members of the new order
    client.force_login(xiluoyuan_handler)
    assert client.get("/api/v1/notifications/unread-count/").json()["unread"] == 1
    assert "新工单" in client.get("/notifications/").content.decode()
    client.post("/notifications/")
    assert client.get("/api/v1/notifications/unread-count/").json()["unread"] == 0


def test_supervision_page_for_the_district(client, make_order, xiluoyuan_handler, fengtai_manager):
    make_order(tier="T2H", ago=timedelta(hours=30))
    order = make_order()
    transitions.order_request_return(order, actor=xiluoyuan_handler, reason_code="not_ours", reason="非本辖区")
    client.force_login(fengtai_manager)
    html = client.get("/orders/supervision/").content.decode()
    assert order.number in html and "西罗园街道" in html
    assert "clock-overdue" in html


def test_lists_do_not_query_per_row(
    client, make_order, xiluoyuan_handler, fengtai_manager, django_assert_max_num_queries
):
    from tests.factories import division as div

    community = div("110106003").children.first()
    for _ in range(6):
        make_order(tier="T2H", ago=timedelta(hours=30), community=community)
    client.force_login(xiluoyuan_handler)
    with django_assert_max_num_queries(14):
        assert client.get("/orders/?tab=overdue").status_code == 200
    client.force_login(fengtai_manager)
    with django_assert_max_num_queries(14):
        assert client.get("/orders/supervision/").status_code == 200


def test_a_street_filters_by_one_of_its_communities(client, make_order, xiluoyuan_handler):
    from tests.factories import division as div

    first, second = list(div("110106003").children.order_by("code")[:2])
    a = make_order(community=first)
    b = make_order(community=second)
    client.force_login(xiluoyuan_handler)
    html = client.get(f"/orders/?community={first.pk}").content.decode()
    assert a.number in html and b.number not in html
    assert f'<option value="{second.pk}">' in html


def _select(html: str, name: str) -> str:
    start = html.index(f'name="{name}"')
    return html[start : html.index("</select>", start)]


def test_a_district_filters_by_one_of_its_streets_and_their_communities(client, make_order, fengtai_manager):
    from districts.models import Division
    from tests.factories import division as div

    xiluoyuan, youanmen = div("110106003"), div("110106001")
    on_xiluoyuan = make_order()
    on_youanmen = make_order(lead="110106001", street="110106001")
    client.force_login(fengtai_manager)
    html = client.get(f"/orders/?street={xiluoyuan.pk}").content.decode()
    assert on_xiluoyuan.number in html and on_youanmen.number not in html
    # the district's own streets are offered, and no other district's
    fengtai_streets = Division.objects.filter(district=div("110106"), level=Division.Level.STREET)
    streets = _select(html, "street")
    assert streets.count("<option value=") == fengtai_streets.count() + 1  # and 全部
    assert all(f'<option value="{s.pk}"' in streets for s in fengtai_streets)
    assert f'<option value="{div("110108001").pk}"' not in streets  # 海淀's first street
    # communities come grouped by street
    first = xiluoyuan.children.order_by("code").first()
    communities = _select(html, "community")
    assert f'<optgroup label="{xiluoyuan.name}">' in communities and f'<option value="{first.pk}">' in communities
    assert on_youanmen.number in client.get(f"/orders/?street={youanmen.pk}").content.decode()


def test_the_city_picks_any_street_grouped_by_district(client, make_order, city_admin):
    from tests.factories import division as div

    on_xiluoyuan = make_order()
    on_youanmen = make_order(lead="110106001", street="110106001")
    client.force_login(city_admin)
    html = client.get(f"/orders/?street={div('110106001').pk}").content.decode()
    assert on_youanmen.number in html and on_xiluoyuan.number not in html
    streets = _select(html, "street")
    assert streets.count("<optgroup") == 16  # one group per district
    assert f'<option value="{div("110108001").pk}"' in streets
    assert 'name="community"' in html and 'type="hidden" name="community"' in html  # no city-wide list


def test_the_city_supervision_page_ignores_a_district_code_that_is_not_digits(client, db):
    from tests.factories import PASSWORD, UserFactory

    city = UserFactory(role="city", unit=unit("11-center"))
    client.login(username=city.username, password=PASSWORD)
    response = client.get("/orders/supervision/", {"district": "110106\x00"})
    assert response.status_code == 400  # a NUL byte is refused at the edge (hotline.web.edge)


def test_the_contact_time_defaults_to_now_and_the_minute_of_the_dispatch_is_accepted(
    client, make_order, xiluoyuan_handler
):
    order = transitions.order_sign(make_order(), actor=xiluoyuan_handler)
    client.force_login(xiluoyuan_handler)
    html = client.get(f"/orders/{order.pk}/").content.decode()
    now = timezone.localtime()
    shown = [now.strftime("%Y-%m-%dT%H:%M"), (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")]
    assert any(f'name="respond-contacted_at" value="{t}"' in html for t in shown)
    # the form has minutes only: the minute the order was dispatched in is not "before the dispatch"
    minute = timezone.localtime(order.dispatched_at).strftime("%Y-%m-%dT%H:%M")
    r = client.post(
        f"/orders/{order.pk}/respond/",
        {"respond-contacted_at": minute, "respond-method": "phone", "respond-summary": "已电话联系"},
    )
    assert r.status_code == 302
    order.refresh_from_db()
    assert order.responded_at is not None


def test_the_history_lists_events_in_the_order_they_were_written_not_by_their_clock(
    client, make_order, xiluoyuan_handler
):
    # given: a return request written after the signing, whose clock reading came 2 ms "earlier"
    order = transitions.order_sign(make_order(), actor=xiluoyuan_handler)
    signed = OrderEvent.objects.get(order=order, kind="signed")
    transitions.order_request_return(order, actor=xiluoyuan_handler, reason_code="not_ours", reason="非本辖区")
    asked = OrderEvent.objects.get(order=order, kind="return_requested")
    OrderEvent.objects.filter(pk=asked.pk).update(at=signed.at - timedelta(milliseconds=2))
    client.force_login(xiluoyuan_handler)
    # then the page, the print view and the API list the signing first
    for url in (f"/orders/{order.pk}/", f"/orders/{order.pk}/print/"):
        html = client.get(url).content.decode()
        assert html.index("申请退单", html.index("办理过程")) > html.index("签收", html.index("办理过程")), url
    kinds = [e["kind"] for e in client.get(f"/api/v1/orders/{order.pk}/").json()["events"]]
    assert kinds.index("signed") < kinds.index("return_requested")
