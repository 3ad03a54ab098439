"""A surge alert and a hot topic count calls; their drill-downs list those same calls (issue 25: "爆单预警:
7 calls" opened on 0 orders, because repeat calls linked to an existing order and calls answered on the
spot have no order of their own). Each listed call leads to the order it became or was linked into."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone

from assessment.governance import services as governance
from assessment.models import Alert
from districts.models import Division
from hotline.models import Call
from tests.assessment.conftest import bj, make_order
from tests.factories import PASSWORD, division
from workorders.lifecycle.creation import order_link_duplicate

pytestmark = pytest.mark.django_db
XILUOYUAN = "110106003"
NOW = bj(2026, 11, 20, 10, 0)


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def hrefs(html: str, testid: str) -> list[str]:
    return [unescape(h) for h in re.findall(rf'data-testid="{testid}"[^>]*href="([^"]+)"', html)]


def a_call(category, at, *, outcome=Call.Outcome.PENDING, community=None) -> Call:
    street = division(XILUOYUAN)
    return Call.objects.create(
        caller_phone="13800002222",
        request_type="complaint",
        description="楼下商户夜间噪声",
        street=street,
        district_id=street.parent_id,
        community=community,
        category=category,
        received_at=at,
        outcome=outcome,
    )


def cluster(category, agent, now):
    """Seven calls of one problem in 西罗园 within the hour: two became orders, four were linked to
    the first order as repeats, one was answered on the spot."""
    orders = [
        make_order(
            XILUOYUAN, callback_at=None, state="signed", category=category, dispatched_at=now - timedelta(minutes=m)
        )
        for m in (5, 10)
    ]
    for m in (15, 20, 25, 30):
        order_link_duplicate(orders[0], call=a_call(category, now - timedelta(minutes=m)), actor=agent)
    answered = a_call(category, now - timedelta(minutes=35), outcome=Call.Outcome.DIRECT_ANSWER)
    return orders, answered


def test_a_surge_alert_opens_on_the_calls_it_counted(client, settings, fengtai_manager, agent, category):
    # given: a surge of seven calls, and calls that are not part of it (a call in one of the street's
    # communities is another cluster; a call two hours earlier is outside the window)
    settings.SURGE_MIN_CALLS, settings.SURGE_WINDOW_MINUTES = 5, 60
    orders, answered = cluster(category, agent, NOW)
    community = Division.objects.filter(parent=division(XILUOYUAN), level=Division.Level.COMMUNITY).first()
    elsewhere = [
        a_call(category, NOW - timedelta(minutes=3), community=community),
        a_call(category, NOW - timedelta(hours=2)),
    ]
    governance.surge_detect(now=NOW)
    alert = Alert.objects.get()
    assert alert.calls == 7
    c = login(client, fengtai_manager)
    # when: following the alert's figure
    links = hrefs(c.get("/assessment/governance/").content.decode(), "alert-orders")
    resp = c.get(links[0])
    # then: the same seven calls, each with the order it became or joined
    assert resp.status_code == 200
    assert resp.context["count"] == 7
    listed = {call.pk for call in resp.context["page"]}
    assert answered.pk in listed and not listed & {call.pk for call in elsewhere}
    html = resp.content.decode()
    assert html.count(f'href="/orders/{orders[0].pk}/"') == 5  # its own call and the four repeats
    assert html.count(f'href="/orders/{orders[1].pk}/"') == 1


def test_a_hot_topic_opens_on_the_calls_it_counted(client, fengtai_manager, agent, category):
    # given: the same seven calls in the last hour (a hot topic: nothing in the weeks before)
    cluster(category, agent, timezone.now() - timedelta(minutes=1))
    c = login(client, fengtai_manager)
    html = c.get("/assessment/governance/").content.decode()
    figure = re.search(r'data-testid="topic-orders"[^>]*>(\d+)</a>', html).group(1)
    # when
    resp = c.get(hrefs(html, "topic-orders")[0])
    # then
    assert figure == "7" and resp.context["count"] == 7
