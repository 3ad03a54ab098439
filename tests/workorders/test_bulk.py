"""Actions in bulk and inline: each item through its own transition; a mix of allowed and forbidden
items changes only the allowed ones and reports the others; saved filters; cut-off lists say so."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages

from tests.factories import unit
from workorders.lifecycle import handling
from workorders.models import OrderEvent, OrderRequest, OrderState, SavedFilter, WorkOrder


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_bulk_sign_signs_the_allowed_and_reports_the_rest(client, make_order, xiluoyuan_handler):
    a, b = make_order(), make_order()
    signed = make_order()
    handling.order_sign(signed, actor=xiluoyuan_handler)
    theirs = make_order(lead="110106001", street="110106001")
    client.force_login(xiluoyuan_handler)
    html = client.get("/orders/?tab=to_sign").content.decode()
    assert 'data-testid="bulk-sign"' in html and f'data-testid="select-{a.pk}"' in html
    r = client.post("/orders/bulk/sign/", {"orders": [a.pk, b.pk, signed.pk, theirs.pk, "x"]}, follow=False)
    assert r.status_code == 302
    msgs = _messages(r)
    assert any(a.number in m and b.number in m and m.startswith("已完成 2 项") for m in msgs)
    assert any(signed.number in m and "不能执行此操作" in m for m in msgs)
    assert any(f"#{theirs.pk}" in m and "无权操作" in m for m in msgs)
    states = dict(WorkOrder.objects.values_list("pk", "state"))
    assert states[a.pk] == states[b.pk] == OrderState.SIGNED and states[theirs.pk] == OrderState.DISPATCHED
    assert OrderEvent.objects.filter(order=theirs, kind="signed").count() == 0
    assert OrderEvent.objects.filter(order=signed, kind="signed").count() == 1


@pytest.mark.parametrize("role", ["agent", "city_admin"])
def test_roles_that_do_not_handle_cannot_bulk_sign(client, make_order, role, request):
    order = make_order()
    client.force_login(request.getfixturevalue(role))
    assert client.post("/orders/bulk/sign/", {"orders": [order.pk]}).status_code == 403
    order.refresh_from_db()
    assert order.state == OrderState.DISPATCHED


def _extension(order, user):
    handling.order_sign(order, actor=user)
    return handling.order_request_extension(
        order, actor=user, new_deadline=order.resolution_deadline + timedelta(days=5), reason="需要更多时间"
    )


def test_approvals_inline_and_in_bulk_each_through_its_transition(
    client, make_order, xiluoyuan_handler, youanmen_handler, fengtai_manager, haidian_manager
):
    ext1 = _extension(make_order(), xiluoyuan_handler)
    ext2 = _extension(make_order(), xiluoyuan_handler)
    ret = handling.order_request_return(
        make_order(), actor=xiluoyuan_handler, reason_code="not_ours", reason="非本辖区"
    )
    client.force_login(fengtai_manager)
    html = client.get("/orders/supervision/").content.decode()
    assert f'data-testid="accept-req-{ext1.pk}"' in html and f'data-testid="select-req-{ret.pk}"' in html
    # inline: one extension approved
    r = client.post("/orders/approvals/decide/", {"items": f"req:{ext1.pk}", "decision": "accept", "ruling": "同意"})
    assert r.status_code == 302 and OrderRequest.objects.get(pk=ext1.pk).state == "approved"
    # bulk: accept the other extension and the return without a re-route unit → the return is refused
    r = client.post(
        "/orders/approvals/decide/",
        {
            "items": [f"req:{ext2.pk}", f"req:{ret.pk}", f"req:{ext1.pk}", "bogus"],
            "decision": "accept",
            "ruling": "同意",
        },
    )
    msgs = _messages(r)
    assert OrderRequest.objects.get(pk=ext2.pk).state == "approved"
    assert OrderRequest.objects.get(pk=ret.pk).state == "pending"
    assert any("改派单位" in m for m in msgs) and any("已审批" in m for m in msgs) and any("bogus" in m for m in msgs)
    # the return with a re-route unit
    r = client.post(
        "/orders/approvals/decide/",
        {"items": f"req:{ret.pk}", "decision": "accept", "ruling": "改派", "reroute_unit": unit("110106001").pk},
    )
    assert OrderRequest.objects.get(pk=ret.pk).state == "approved"
    assert WorkOrder.objects.get(pk=ret.order_id).lead_unit == unit("110106001")
    # another district's manager: nothing visible, nothing changes
    ext3 = _extension(make_order(), xiluoyuan_handler)
    client.force_login(haidian_manager)
    r = client.post("/orders/approvals/decide/", {"items": f"req:{ext3.pk}", "decision": "reject", "ruling": "不行"})
    assert OrderRequest.objects.get(pk=ext3.pk).state == "pending" and any("无权操作" in m for m in _messages(r))
    # a street cannot use the approvals at all
    client.force_login(youanmen_handler)
    r = client.post("/orders/approvals/decide/", {"items": f"req:{ext3.pk}", "decision": "accept", "ruling": "x"})
    assert r.status_code == 403 and OrderRequest.objects.get(pk=ext3.pk).state == "pending"


def test_exclusions_are_decided_from_the_approvals_list(client, make_order, xiluoyuan_handler, fengtai_manager):
    from workorders.lifecycle import exclusions

    order = make_order()
    handling.order_sign(order, actor=xiluoyuan_handler)
    req = exclusions.exclusion_request(
        order, actor=xiluoyuan_handler, reason="unreasonable", explanation="诉求不合理", files=[]
    )
    client.force_login(fengtai_manager)
    assert f'data-testid="select-exc-{req.pk}"' in client.get("/orders/supervision/").content.decode()
    client.post("/orders/approvals/decide/", {"items": f"exc:{req.pk}", "decision": "accept", "ruling": "同意"})
    req.refresh_from_db()
    assert req.state == "pending_city"


def test_saved_filters_are_per_user(client, xiluoyuan_handler, youanmen_handler):
    client.force_login(xiluoyuan_handler)
    r = client.post("/orders/filters/", {"name": "投诉", "query": "tab=in_progress&request_type=complaint&page=3"})
    assert r.status_code == 302 and r.url.endswith("?tab=in_progress&request_type=complaint")
    saved = SavedFilter.objects.get(user=xiluoyuan_handler)
    assert saved.query == "tab=in_progress&request_type=complaint"
    assert "投诉" in client.get("/orders/").content.decode()
    client.force_login(youanmen_handler)
    assert "request_type=complaint" not in client.get("/orders/").content.decode()
    assert client.post(f"/orders/filters/{saved.pk}/delete/").status_code == 404
    client.force_login(xiluoyuan_handler)
    assert client.post(f"/orders/filters/{saved.pk}/delete/").status_code == 302
    assert not SavedFilter.objects.exists()


def test_cut_off_lists_say_so_and_page_on(client, make_order, fengtai_manager, xiluoyuan_handler):
    for _ in range(22):
        make_order(tier="T2H", ago=timedelta(hours=30))
    client.force_login(fengtai_manager)
    html = client.get("/orders/supervision/").content.decode()
    assert 'data-testid="overdue-cut"' in html and "共 22 条" in html and "?tab=overdue" in html
    client.force_login(xiluoyuan_handler)
    html = client.get("/orders/?tab=overdue").content.decode()
    assert "共 22 条，显示第 1–22 条" in html


def test_approving_needs_no_opinion_and_rejecting_does(client, make_order, xiluoyuan_handler, fengtai_manager):
    ext1, ext2 = (_extension(make_order(), xiluoyuan_handler) for _ in range(2))
    client.force_login(fengtai_manager)
    # approving with nothing typed goes through, inline and on the order page
    r = client.post("/orders/approvals/decide/", {"items": f"req:{ext1.pk}", "decision": "accept", "ruling": ""})
    assert r.status_code == 302 and OrderRequest.objects.get(pk=ext1.pk).state == "approved"
    r = client.post(f"/orders/{ext2.order_id}/rule_extension/", {"rule_extension-decision": "accept"})
    assert r.status_code == 302 and OrderRequest.objects.get(pk=ext2.pk).state == "approved"
    # rejecting without an opinion is refused with one message before any item is touched
    ext3 = _extension(make_order(), xiluoyuan_handler)
    events = OrderEvent.objects.filter(order_id=ext3.order_id).count()
    r = client.post("/orders/approvals/decide/", {"items": f"req:{ext3.pk}", "decision": "reject", "ruling": "  "})
    assert any("驳回时请填写审批意见" in m for m in _messages(r))
    assert OrderRequest.objects.get(pk=ext3.pk).state == "pending"
    assert OrderEvent.objects.filter(order_id=ext3.order_id).count() == events
    r = client.post(f"/orders/{ext3.order_id}/rule_extension/", {"rule_extension-decision": "reject"})
    assert r.status_code == 400 and OrderRequest.objects.get(pk=ext3.pk).state == "pending"
