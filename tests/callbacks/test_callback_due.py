"""The callback queue shows when each callback is due (CALLBACK_LIMIT_WORKDAYS working days after
closing, on China's calendar); the callback page says what the unit's closing is for a fresh round."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from tests.callbacks.conftest import close, make_order
from tests.factories import PASSWORD
from workorders.callbacks import selectors as callback_selectors
from workorders.lifecycle import callbacks
from workorders.lifecycle.callbacks import Answers
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db

UNRESOLVED = Answers(contacted=True, solved="unresolved", satisfaction="unsatisfied")


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_the_due_time_counts_working_days_over_the_national_day_holiday(settings):
    settings.CALLBACK_LIMIT_WORKDAYS = 2
    # closed on Monday 2026-09-28 15:00; 1–7 October are holidays: the 2nd working day is 9 October
    # (29/30 September count: the 30th is the 2nd).
    closed = timezone.make_aware(datetime(2026, 9, 28, 15, 0))
    assert timezone.localtime(callback_selectors.callback_due(closed)).date().isoformat() == "2026-09-30"
    closed = timezone.make_aware(datetime(2026, 9, 30, 15, 0))
    assert timezone.localtime(callback_selectors.callback_due(closed)).date().isoformat() == "2026-10-09"


def test_the_queue_shows_each_orders_due_time_and_marks_the_late(client, agent, settings):
    # given: one order closed two weeks ago (late), one closed an hour ago
    settings.CALLBACK_LIMIT_WORKDAYS = 3
    now = timezone.now()
    late = close(make_order(agent), at=now - timedelta(days=14))
    fresh = close(make_order(agent), at=now - timedelta(hours=1))
    # when
    resp = _login(client, agent).get("/callbacks/")
    # then
    rows = {o.pk: o for o in resp.context["rows"]}
    assert rows[late.pk].callback_late and not rows[fresh.pk].callback_late
    assert rows[fresh.pk].callback_due == callback_selectors.callback_due(fresh.closed_at)
    html = resp.content.decode()
    assert html.count('data-testid="callback-due"') == 2
    assert timezone.localtime(rows[fresh.pk].callback_due).strftime("%Y-%m-%d %H:%M") in html
    assert "3 个工作日" in html


@pytest.mark.parametrize("fixture,status", [("city_admin", 200), ("xiluoyuan_handler", 403), ("fengtai_manager", 403)])
def test_the_queue_with_due_times_per_role(client, request, fixture, status):
    assert _login(client, request.getfixturevalue(fixture)).get("/callbacks/").status_code == status


def test_a_fresh_round_is_not_called_late(client, agent):
    # given: a callback finds the problem unresolved: the order goes back to the street, round 2
    order = close(make_order(agent))
    callbacks.callback_record(order, actor=agent, answers=UNRESOLVED)
    order.refresh_from_db()
    assert order.round == 2 and order.resolution_deadline > timezone.now()
    # when
    html = _login(client, agent).get(f"/callbacks/{order.pk}/").content.decode()
    # then
    assert "超时回访" not in html
    assert "第2轮：承办单位正在办理，尚未办结" in html


def test_an_open_order_past_its_limit_is_called_a_late_callback(client, agent):
    order = make_order(agent, tier="T2H", now=timezone.now() - timedelta(days=2))
    html = _login(client, agent).get(f"/callbacks/{order.pk}/").content.decode()
    assert "已超过办结时限（超时回访）" in html
    assert 'data-testid="callback-due"' in html


def test_a_closed_order_shows_the_units_note_and_due_time(client, agent):
    order = close(make_order(agent))
    html = _login(client, agent).get(f"/callbacks/{order.pk}/").content.decode()
    assert "已联系物业更换电梯主板" in html and 'data-testid="closing-status"' not in html
    due = callback_selectors.callback_due(WorkOrder.objects.get(pk=order.pk).closed_at)
    assert timezone.localtime(due).strftime("%Y-%m-%d %H:%M") in html


def test_english_says_it_in_english(client, agent):
    order = close(make_order(agent))
    callbacks.callback_record(order, actor=agent, answers=UNRESOLVED)
    c = _login(client, agent)
    c.cookies["django_language"] = "en"
    html = c.get(f"/callbacks/{order.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Round 2" in html and "尚未办结" not in html
