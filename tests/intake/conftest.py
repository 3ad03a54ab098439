import pytest
from django.apps import apps

from hotline.models import Category
from hotline.seeds import fill_category_names_en, seed_categories
from workorders.seeds import seed_tiers


def ensure_intake_reference_data() -> None:
    """Transactional tests flush the database: put the tiers, the category tree and the dispatch
    catalogue back (the same seed functions the migrations run)."""
    if Category.objects.filter(level=3).exists():
        return
    seed_tiers(apps)
    seed_categories(apps)
    fill_category_names_en(apps)


@pytest.fixture(autouse=True)
def _fresh_reference_caches():
    """Rolled-back or flushed rows must not survive in the per-process caches between tests."""
    from districts.communities import clear_cache
    from hotline import refcache

    refcache.clear_all()
    clear_cache()
    yield
    refcache.clear_all()
    clear_cache()


@pytest.fixture
def intake_reference(reference_data):
    from districts import routing
    from districts.communities import clear_cache

    ensure_intake_reference_data()
    # A flush and reload gives the divisions new ids: drop this process's in-memory indexes.
    routing.invalidate()
    clear_cache()


def intake_data(**overrides) -> dict:
    data = {
        "phone": "13811012345",
        "caller_name": "李女士",
        "channel": "phone",
        "request_type": "help",
        "category": "010102",  # 城乡建设 → 物业管理 → 电梯故障
        "address": "丰台区洋桥北里12号楼3单元",
        "description": "楼道电梯停运两天，家中有老人上下楼困难。",
        "action": "order",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def api_as(user):
    """A DRF client logged in as the user."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def page_as(user):
    """A page client with the user's session."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client
