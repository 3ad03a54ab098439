import pytest
from django.utils import timezone

import hotline.demo as demo
from hotline.models import User
from workorders.callbacks import selectors as callback_selectors
from workorders.models import ExclusionRequest


@pytest.fixture
def only_callback_demo(monkeypatch):
    monkeypatch.setattr(demo, "PARTS", (demo.accounts, demo.callbacks))


@pytest.mark.django_db
def test_the_demo_gives_the_agent_orders_to_call_back_and_is_idempotent(only_callback_demo, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    # when
    first = demo.setup_demo(not_production=True)
    second = demo.setup_demo(not_production=True)
    # then
    assert first["callback_orders"] == 4 and first["exclusion_requests"] == 1
    assert second["callback_orders"] == 0 and second["exclusion_requests"] == 0
    agent = User.objects.get(username="agent")
    queue = list(callback_selectors.callback_queue(user=agent, now=timezone.now()))
    assert len(queue) == 4
    assert sum(1 for o in queue if o.state == "closed") == 3
    assert any(o.is_overdue for o in queue)
    exclusion = ExclusionRequest.objects.get()
    assert exclusion.state == "pending_district" and exclusion.evidence.count() == 1
    assert exclusion.unit.code == "110106003"
