"""The hot lists cost the same number of queries for 2 rows as for 12: nothing is looked up per row
(per-row lookups are what turns a 25-row page into 100 queries at Beijing's volume)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.callbacks.conftest import close
from workorders.lifecycle import handling

pytestmark = pytest.mark.django_db


def _queries(client, method: str, url: str, data=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, data) if data is not None else getattr(client, method)(url)
        assert response.status_code == 200, (url, response.status_code)
    return len(captured)


def _grow(make_order, xiluoyuan_handler, n: int) -> None:
    for i in range(n):
        order = make_order(ago=timedelta(hours=i))
        if i % 2:
            handling.order_sign(order, actor=xiluoyuan_handler)
        if i % 3 == 0:
            close(order)


URLS = [
    ("get", "/orders/?tab=to_sign", None),
    ("get", "/orders/?tab=in_progress", None),
    ("get", "/orders/?tab=closed", None),
    ("get", "/api/v1/orders/?tab=to_sign", None),
    ("get", "/api/v1/orders/?tab=closed", None),
    ("post", "/search/", {"q": "供水"}),
]


@pytest.mark.parametrize(("method", "url", "data"), URLS)
def test_a_hot_list_costs_the_same_for_two_rows_as_for_twelve(client, make_order, xiluoyuan_handler, method, url, data):
    # given a street with 2 orders in each list, then with 12
    _grow(make_order, xiluoyuan_handler, 6)
    client.force_login(xiluoyuan_handler)
    _queries(client, method, url, data)  # warm the per-process reference caches
    few = _queries(client, method, url, data)
    _grow(make_order, xiluoyuan_handler, 30)
    many = _queries(client, method, url, data)
    # then the count of queries did not grow with the rows
    assert many == few, (url, few, many)


def test_the_order_page_costs_the_same_for_a_short_and_a_long_history(client, make_order, xiluoyuan_handler):
    order = make_order()
    handling.order_sign(order, actor=xiluoyuan_handler)
    client.force_login(xiluoyuan_handler)
    _queries(client, "get", f"/orders/{order.pk}/")
    short = _queries(client, "get", f"/orders/{order.pk}/")
    for i in range(10):
        handling.order_add_note(order, actor=xiluoyuan_handler, note=f"第{i}次现场查看")
    long = _queries(client, "get", f"/orders/{order.pk}/")
    assert long == short, (short, long)
