from datetime import timedelta

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from tests.callbacks.conftest import make_order
from workorders.lifecycle import callbacks, self_evaluations
from workorders.lifecycle.callbacks import Answers
from workorders.models import Callback, OrderEvent, SelfEvaluationLink, WorkOrder

pytestmark = pytest.mark.django_db

GOOD = {"contacted": "yes", "solved": "resolved", "satisfaction": "satisfied", "comment": "谢谢"}


def _url(link: SelfEvaluationLink) -> str:
    return self_evaluations.self_evaluation_url(link)


def _state(order: WorkOrder) -> tuple:
    order.refresh_from_db()
    return (
        order.state,
        order.round,
        order.callback_valid,
        order.satisfaction,
        Callback.objects.filter(order=order).count(),
        OrderEvent.objects.filter(order=order).count(),
        SelfEvaluationLink.objects.filter(order=order, used_at__isnull=False).count(),
    )


def test_it_works_once_and_then_refuses(client, agent, closed_order):
    # given
    link = self_evaluations.self_evaluation_link_create(closed_order, actor=agent)
    url = _url(link)
    # when: the citizen opens the link and answers
    page = client.get(url)
    answered = client.post(url, GOOD)
    # then
    assert page.status_code == 200 and "楼道电梯停运" in page.text
    assert answered.status_code == 200 and 'data-testid="thanks"' in answered.text
    closed_order.refresh_from_db()
    callback = Callback.objects.get(order=closed_order)
    assert (callback.status, callback.channel, callback.agent) == ("valid", "self", None)
    assert closed_order.state == "completed" and closed_order.satisfaction == "satisfied"
    link.refresh_from_db()
    assert link.used_at is not None
    # and a second use is refused plainly, changing nothing
    before = _state(closed_order)
    again = client.get(url)
    again_post = client.post(url, {**GOOD, "satisfaction": "unsatisfied"})
    assert again.status_code == again_post.status_code == 410
    assert "该链接已使用过" in again.text and "该链接已使用过" in again_post.text
    assert _state(closed_order) == before


def test_the_page_shows_nothing_but_the_questions(client, agent, closed_order):
    link = self_evaluations.self_evaluation_link_create(closed_order, actor=agent)
    text = client.get(_url(link)).text
    assert closed_order.number not in text
    assert closed_order.call.caller_phone not in text
    assert closed_order.address not in text
    assert "/callbacks/" not in text and "/orders/" not in text and "/api/" not in text


def test_an_expired_link_refuses_and_changes_nothing(client, agent, closed_order, settings):
    # given: a link created long enough ago to have expired
    created = timezone.now() - timedelta(hours=settings.SELF_EVALUATION_LINK_HOURS + 1)
    link = self_evaluations.self_evaluation_link_create(closed_order, actor=agent, now=created)
    before = _state(closed_order)
    # when
    get = client.get(_url(link))
    post = client.post(_url(link), GOOD)
    # then
    assert get.status_code == post.status_code == 410
    assert "该链接已过期" in post.text
    assert _state(closed_order) == before


@pytest.mark.parametrize("mangle", ["flip_last", "other_salt", "garbage"])
def test_a_tampered_link_refuses_and_changes_nothing(client, agent, closed_order, mangle):
    link = self_evaluations.self_evaluation_link_create(closed_order, actor=agent)
    token = self_evaluations.self_evaluation_token(link)
    if mangle == "flip_last":
        token = token[:-1] + ("A" if token[-1] != "A" else "B")
    elif mangle == "other_salt":
        token = signing.dumps(link.nonce, salt="something-else")
    else:
        token = "not-a-token"
    before = _state(closed_order)
    response = client.post(reverse("self-evaluation", args=[token]), GOOD)
    assert response.status_code == 410 and "链接无效" in response.text
    assert _state(closed_order) == before


def test_a_link_refuses_once_an_agent_completed_the_callback(client, agent, closed_order):
    link = self_evaluations.self_evaluation_link_create(closed_order, actor=agent)
    callbacks.callback_record(closed_order, actor=agent, answers=Answers(True, "resolved", "satisfied"))
    before = _state(closed_order)
    response = client.post(_url(link), GOOD)
    assert response.status_code == 410 and "本次回访已完成" in response.text
    assert _state(closed_order) == before


def test_an_unsatisfied_self_evaluation_redispatches_to_the_same_unit(client, agent, closed_order):
    link = self_evaluations.self_evaluation_link_create(closed_order, actor=agent)
    client.post(_url(link), {"contacted": "no", "solved": "unresolved", "satisfaction": "unsatisfied"})
    closed_order.refresh_from_db()
    assert (closed_order.state, closed_order.round, closed_order.lead_unit.code) == ("dispatched", 2, "110106003")
    assert closed_order.contacted is False


def test_an_incomplete_answer_shows_the_form_again_and_keeps_the_link(client, agent, closed_order):
    link = self_evaluations.self_evaluation_link_create(closed_order, actor=agent)
    before = _state(closed_order)
    response = client.post(_url(link), {"contacted": "yes"})
    assert response.status_code == 200 and "form-error" in response.text
    assert _state(closed_order) == before
    link.refresh_from_db()
    assert link.used_at is None


def test_no_link_for_an_order_that_is_not_awaiting_a_callback(agent):
    from hotline.errors import DomainError

    order = make_order(agent)
    with pytest.raises(DomainError):
        self_evaluations.self_evaluation_link_create(order, actor=agent)
    assert not SelfEvaluationLink.objects.exists()
