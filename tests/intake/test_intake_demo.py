import pytest

import hotline.demo as demo
from hotline.demo import setup_demo
from hotline.demo.intake import DEMO_API_KEY
from hotline.intake.open311 import client_for_key
from hotline.models import ApiClient, Call, KnowledgeArticle
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db


def test_the_demo_has_articles_a_working_key_and_orders_in_the_demo_streets(monkeypatch):
    # given: only this capability's demo part (the others have their own tests)
    monkeypatch.setattr("hotline.demo.PARTS", (demo.accounts, demo.intake))
    # when
    first = setup_demo(not_production=True)
    second = setup_demo(not_production=True)
    # then
    assert first["kb_articles"] == KnowledgeArticle.objects.count() >= 10
    assert first["api_clients"] == 1 and client_for_key(DEMO_API_KEY) == ApiClient.objects.get()
    assert first["orders"] >= 8 and first["direct_answers"] == 1
    assert {k: v for k, v in second.items() if k in first and k in ("kb_articles", "api_clients", "orders")} == {
        "kb_articles": 0,
        "api_clients": 0,
        "orders": 0,
    }
    leads = set(WorkOrder.objects.values_list("lead_unit__code", flat=True))
    assert {"110106003", "110106001", "110108010", "110106-water"} <= leads
    assert Call.objects.filter(outcome="direct_answer", answer_article__isnull=False).exists()


def test_the_demo_logins_print_the_api_key():
    from hotline.management.commands.setup_demo import demo_logins

    assert DEMO_API_KEY in demo_logins()
