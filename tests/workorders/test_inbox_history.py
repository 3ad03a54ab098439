"""The inbox does not grow with a unit's history: open tabs are counted over open orders only and
the closed tab is counted up to the list cap (settings.LIST_COUNT_CAP), with the page and the API
saying when the count and the list were cut off."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.callbacks.conftest import close
from workorders.handling import selectors
from workorders.lifecycle import handling as transitions

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(make_order, xiluoyuan_handler):
    """西罗园: 5 closed orders, one to sign, one signed; 右安门: 2 closed orders."""
    closed = [close(make_order()) for _ in range(5)]
    to_sign = make_order()
    signed = transitions.order_sign(make_order(), actor=xiluoyuan_handler)
    theirs = [close(make_order(lead="110106001", street="110106001")) for _ in range(2)]
    return {"closed": closed, "to_sign": to_sign, "signed": signed, "theirs": theirs}


def _count_span(html: str, tab: str) -> str:
    match = re.search(rf'<span class="count"[^>]*data-count="{tab}">([^<]*)<', html)
    assert match, f"no count for {tab}"
    return match.group(1)


def test_below_the_cap_every_tab_is_counted_exactly(client, history, xiluoyuan_handler, settings):
    settings.LIST_COUNT_CAP = 100
    counts = selectors.inbox_counts(xiluoyuan_handler)
    assert counts["closed"] == 5 and counts["to_sign"] == 1 and counts["in_progress"] == 1
    assert counts["capped"] == []
    client.force_login(xiluoyuan_handler)
    html = client.get("/orders/?tab=closed").content.decode()
    assert _count_span(html, "closed") == "5"
    assert "共 5 条" in html and "只列出前" not in html


def test_over_the_cap_the_closed_tab_says_it_was_cut_off(client, history, xiluoyuan_handler, settings):
    settings.LIST_COUNT_CAP = 3
    counts = selectors.inbox_counts(xiluoyuan_handler)
    # the open tabs are exact whatever the cap; the closed tab stops at the cap and says so
    assert (counts["to_sign"], counts["in_progress"], counts["closed"]) == (1, 1, 3)
    assert counts["capped"] == ["closed"]
    client.force_login(xiluoyuan_handler)
    html = client.get("/orders/?tab=closed").content.decode()
    assert _count_span(html, "closed") == "3+"
    assert _count_span(html, "to_sign") == "1"
    assert "超过 3 条，只列出前 3 条" in html and "派单日期" in html
    shown = [o.number for o in history["closed"] if o.number in html]
    assert len(shown) == 3  # the first three in the list's order, newest first
    assert history["closed"][-1].number in html and history["closed"][0].number not in html
    # another street's closed orders are neither counted nor listed
    assert not any(o.number in html for o in history["theirs"])


def test_a_date_filter_reaches_what_the_cap_cut_off(client, history, xiluoyuan_handler, settings):
    settings.LIST_COUNT_CAP = 3
    from workorders.models import WorkOrder

    oldest = history["closed"][0]
    # the list filters by the Beijing date, so the test reads dates in Beijing time too (a UTC
    # date is the previous Beijing day between 16:00 and 24:00 UTC)
    day = timezone.localdate(oldest.dispatched_at)
    # move the two oldest a month back, so a date filter can single them out
    for order in history["closed"][:2]:
        WorkOrder.objects.filter(pk=order.pk).update(dispatched_at=order.dispatched_at - _month())
    moved = timezone.localdate(WorkOrder.objects.get(pk=oldest.pk).dispatched_at)
    assert moved < day
    client.force_login(xiluoyuan_handler)
    html = client.get(f"/orders/?tab=closed&date_from={moved.isoformat()}&date_to={moved.isoformat()}").content.decode()
    assert _count_span(html, "closed") == "2" and "共 2 条" in html
    assert oldest.number in html


def _month():
    from datetime import timedelta

    return timedelta(days=31)


def test_the_api_list_counts_to_the_cap_and_flags_it(client, history, xiluoyuan_handler, settings):
    settings.LIST_COUNT_CAP = 3
    client.force_login(xiluoyuan_handler)
    data = client.get("/api/v1/orders/?tab=closed").json()
    assert data["count"] == 3 and data["count_cut_off"] is True
    assert len(data["results"]) == 3
    assert data["tab_counts"]["closed"] == 3 and data["tab_counts"]["capped"] == ["closed"]
    counts = client.get("/api/v1/orders/counts/").json()
    assert counts["closed"] == 3 and counts["capped"] == ["closed"] and counts["to_sign"] == 1
    settings.LIST_COUNT_CAP = 100
    data = client.get("/api/v1/orders/?tab=closed").json()
    assert data["count"] == 5 and data["count_cut_off"] is False


def test_the_poll_counts_under_the_lists_filters(client, history, xiluoyuan_handler, make_order):
    client.force_login(xiluoyuan_handler)
    unfiltered = client.get("/orders/poll.json").json()["counts"]
    assert unfiltered["to_sign"] == 1 and unfiltered["closed"] == 5
    number = history["closed"][2].number
    filtered = client.get(f"/orders/poll.json?tab=closed&q={number}").json()["counts"]
    # the same filter as the list on screen: the page and its refresh agree
    assert filtered["closed"] == 1 and filtered["to_sign"] == 0
    page = client.get(f"/orders/?tab=closed&q={number}").content.decode()
    assert _count_span(page, "closed") == "1"


def test_the_open_tab_counts_never_read_closed_rows(history, xiluoyuan_handler):
    """The aggregate of the open tabs is restricted to the open states (so an index range per open
    state, not the unit's whole history); the closed tab is a LIMITed count."""
    with CaptureQueriesContext(connection) as ctx:
        selectors.inbox_counts(xiluoyuan_handler)
    sqls = [q["sql"] for q in ctx.captured_queries if "workorders_workorder" in q["sql"]]
    aggregate = next(s for s in sqls if "to_sign" in s)
    where = aggregate.split(" FROM ", 1)[1]
    assert "'dispatched'" in where and "'parked'" in where and "'closed'" not in where
    closed = next(s for s in sqls if "'closed'" in s and "to_sign" not in s)
    assert "LIMIT" in closed
