import re
from datetime import timedelta

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from tests.callbacks.conftest import close, make_order
from tests.factories import PASSWORD
from workorders.callbacks import selectors as callback_selectors
from workorders.lifecycle import callbacks, self_evaluations
from workorders.lifecycle.callbacks import Answers
from workorders.models import Callback, OrderEvent, WorkOrder

pytestmark = pytest.mark.django_db

SATISFIED = Answers(contacted=True, solved="resolved", satisfaction="satisfied")


def _login(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


# --- the queue ------------------------------------------------------------------------------------------
def test_the_queue_holds_closed_and_overdue_orders_oldest_first(agent):
    # given
    now = timezone.now()
    recent = close(make_order(agent), at=now - timedelta(hours=1))
    oldest = close(make_order(agent), at=now - timedelta(days=3))
    overdue = make_order(agent, tier="T2H", now=now - timedelta(days=2))  # limit ran out ~2 days ago
    in_time = make_order(agent)
    called_back = close(make_order(agent), at=now - timedelta(days=4))
    callbacks.callback_record(called_back, actor=agent, answers=SATISFIED)
    # when
    queue = list(callback_selectors.callback_queue(user=agent, now=now))
    # then
    assert [o.pk for o in queue] == [oldest.pk, overdue.pk, recent.pk]
    assert in_time.pk not in {o.pk for o in queue}
    assert [o.is_overdue for o in queue] == [0, 1, 0]


def test_the_queue_filters_by_kind_and_number(agent):
    closed = close(make_order(agent))
    overdue = make_order(agent, tier="T2H", now=timezone.now() - timedelta(days=2))
    assert [o.pk for o in callback_selectors.callback_queue(user=agent, kind="closed")] == [closed.pk]
    assert [o.pk for o in callback_selectors.callback_queue(user=agent, kind="overdue")] == [overdue.pk]
    assert [o.pk for o in callback_selectors.callback_queue(user=agent, q=closed.number)] == [closed.pk]


def test_a_redispatched_order_leaves_the_queue_and_returns_when_closed_again(agent):
    order = close(make_order(agent))
    callbacks.callback_record(order, actor=agent, answers=Answers(True, "unresolved", "unsatisfied"))
    assert not callback_selectors.callback_queue(user=agent).filter(pk=order.pk).exists()
    close(WorkOrder.objects.get(pk=order.pk))
    assert callback_selectors.callback_queue(user=agent).filter(pk=order.pk).exists()


def test_agents_and_the_city_see_the_queue_page(client, agent, city_admin, closed_order):
    for user in (agent, city_admin):
        response = _login(client, user).get(reverse("callback-queue"))
        assert response.status_code == 200
        assert closed_order.number in response.text
        client.logout()


@pytest.mark.parametrize(
    "role_fixture", ["xiluoyuan_handler", "youanmen_handler", "water_dept_handler", "fengtai_manager"]
)
def test_units_and_districts_cannot_open_callback_pages(request, client, role_fixture, closed_order):
    _login(client, request.getfixturevalue(role_fixture))
    assert client.get(reverse("callback-queue")).status_code == 403
    assert client.get(reverse("callback-detail", args=[closed_order.pk])).status_code == 403
    data = {"round": 1, "contacted": "yes", "solved": "resolved", "satisfaction": "satisfied"}
    assert client.post(reverse("callback-record", args=[closed_order.pk]), data).status_code == 403
    assert client.post(reverse("callback-attempt", args=[closed_order.pk]), {"result": "busy"}).status_code == 403
    assert client.post(reverse("callback-self-link", args=[closed_order.pk])).status_code == 403
    assert client.post(reverse("callback-send-back", args=[closed_order.pk]), {"reason": "x"}).status_code == 403
    closed_order.refresh_from_db()
    assert closed_order.state == "closed" and not Callback.objects.exists()


def test_anonymous_users_are_sent_to_login(client, closed_order):
    response = client.get(reverse("callback-detail", args=[closed_order.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- the callback page ------------------------------------------------------------------------------------
def test_the_callback_page_shows_the_closing_explanation_history_and_phone(client, agent, closed_order):
    response = _login(client, agent).get(reverse("callback-detail", args=[closed_order.pk]))
    assert response.status_code == 200
    text = response.text
    assert "已联系物业更换电梯主板" in text  # the unit's closing explanation
    assert text.count('class="cb-timeline-at"') == 2  # created, closed
    assert closed_order.call.caller_phone in text  # agents call the citizen: number in full


def test_the_city_sees_the_phone_masked(client, city_admin, closed_order):
    response = _login(client, city_admin).get(reverse("callback-detail", args=[closed_order.pk]))
    assert closed_order.call.caller_phone not in response.text


def test_posting_the_answers_twice_records_once(client, agent, closed_order):
    # given
    _login(client, agent)
    url = reverse("callback-record", args=[closed_order.pk])
    data = {"round": 1, "contacted": "yes", "solved": "unresolved", "satisfaction": "unsatisfied", "comment": "没修"}
    # when
    first = client.post(url, data)
    events_after_first = OrderEvent.objects.filter(order=closed_order).count()
    second = client.post(url, data)
    # then
    assert first.status_code == second.status_code == 302
    order = WorkOrder.objects.get(pk=closed_order.pk)
    assert (order.state, order.round) == ("dispatched", 2)
    assert OrderEvent.objects.filter(order=order).count() == events_after_first
    assert Callback.objects.filter(order=order).count() == 1


def test_an_incomplete_answer_form_shows_an_error_and_changes_nothing(client, agent, closed_order):
    _login(client, agent)
    response = client.post(reverse("callback-record", args=[closed_order.pk]), {"round": 1, "contacted": "yes"})
    assert response.status_code == 400
    closed_order.refresh_from_db()
    assert closed_order.state == "closed" and not Callback.objects.exists()


def test_the_page_logs_a_failed_attempt(client, agent, closed_order):
    _login(client, agent)
    response = client.post(reverse("callback-attempt", args=[closed_order.pk]), {"result": "no_answer"}, follow=True)
    assert response.status_code == 200
    assert list(Callback.objects.get(order=closed_order).attempts.values_list("result", flat=True)) == ["no_answer"]
    assert "无人接听" in response.text


def test_the_page_sends_a_closing_back(client, agent, closed_order):
    _login(client, agent)
    response = client.post(reverse("callback-send-back", args=[closed_order.pk]), {"reason": "未写明结果"})
    assert response.status_code == 302
    closed_order.refresh_from_db()
    assert closed_order.state == "signed"


def test_the_page_creates_a_self_evaluation_link_and_shows_it(client, agent, closed_order):
    _login(client, agent)
    response = client.post(reverse("callback-self-link", args=[closed_order.pk]), follow=True)
    link = closed_order.self_evaluation_links.get()
    # The token is signed with a timestamp, so it is read back rather than recomputed.
    shown = re.findall(r"/e/([^/\"'<\s]+)/", response.text)
    assert shown, "no self-evaluation link on the page"
    assert {signing.loads(token, salt=self_evaluations.SELF_EVALUATION_SALT) for token in shown} == {link.nonce}


def test_the_home_panel_counts_the_queue_for_agents_only(agent, xiluoyuan_handler, closed_order):
    from django.template import Context, Template
    from django.test import RequestFactory

    def render(user):
        request = RequestFactory().get("/")
        request.user = user
        return Template("{% load callback_tags %}{% callback_queue_panel %}").render(Context({"request": request}))

    html = render(agent)
    assert 'data-testid="callback-queue-panel"' in html and closed_order.title in html
    assert render(xiluoyuan_handler).strip() == ""
