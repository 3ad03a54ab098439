from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from tests.callbacks.conftest import close, make_order
from tests.conftest import wait_for
from tests.factories import UserFactory, unit
from workorders import tasks as callback_tasks
from workorders.lifecycle import self_evaluations
from workorders.lifecycle.callbacks import Answers
from workorders.models import SelfEvaluationLink


def _links(agent):
    order = close(make_order(agent))
    long_ago = timezone.now() - timedelta(days=40)
    old_unused = self_evaluations.self_evaluation_link_create(order, actor=agent, now=long_ago)
    old_used = self_evaluations.self_evaluation_link_create(order, actor=agent, now=long_ago)
    SelfEvaluationLink.objects.filter(pk=old_used.pk).update(used_at=long_ago + timedelta(hours=1))
    fresh = self_evaluations.self_evaluation_link_create(order, actor=agent)
    return old_unused, old_used, fresh


@pytest.mark.django_db
def test_it_purges_only_long_expired_unused_links_and_can_run_twice(agent):
    _old_unused, old_used, fresh = _links(agent)
    assert self_evaluations.self_evaluation_links_purge() == 1
    assert self_evaluations.self_evaluation_links_purge() == 0
    assert set(SelfEvaluationLink.objects.values_list("pk", flat=True)) == {old_used.pk, fresh.pk}


@pytest.mark.integration
def test_a_real_worker_runs_the_purge(live_worker):
    # given
    agent = UserFactory(role="agent", unit=unit("11-center"))
    old_unused, _old_used, _fresh = _links(agent)
    # when
    with transaction.atomic():
        transaction.on_commit(callback_tasks.purge_self_evaluation_links.delay)
    # then
    wait_for(lambda: not SelfEvaluationLink.objects.filter(pk=old_unused.pk).exists(), log=live_worker.log)
    assert SelfEvaluationLink.objects.count() == 2


@pytest.mark.django_db
def test_a_used_link_for_a_finished_callback_is_kept(agent):
    order = close(make_order(agent))
    link = self_evaluations.self_evaluation_link_create(order, actor=agent, now=timezone.now() - timedelta(days=40))
    SelfEvaluationLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() + timedelta(hours=1))
    self_evaluations.self_evaluation_submit(
        self_evaluations.self_evaluation_token(link), answers=Answers(True, "resolved", "basic")
    )
    self_evaluations.self_evaluation_links_purge(now=timezone.now() + timedelta(days=60))
    assert SelfEvaluationLink.objects.filter(pk=link.pk).exists()
