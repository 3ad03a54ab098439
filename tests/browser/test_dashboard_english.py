"""The dashboard in English at desktop and phone width: no chart label is cut short ("Occu…" for
"Occupation of public space", issue 25)."""

import pytest
from django.utils import timezone

from tests.browser.conftest import login
from tests.factories import PASSWORD, UserFactory, unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CHARTS = ("chart-trend", "chart-ranking", "chart-category", "chart-hour", "chart-response", "chart-load")


@pytest.fixture
def demo_history(reference_data):
    from hotline.demo import assessment as demo
    from tests.assessment.conftest import ensure_tiers

    ensure_tiers()
    manager = UserFactory(username="fengtai-en", role="district", unit=unit("110106"))
    demo.setup(now=timezone.now())
    # every category with a long English name (a flushed database may hold the demo's own, unnamed)
    from django.db.models import Value
    from django.db.models.functions import Concat

    from hotline.models import Category

    Category.objects.filter(name_en="").update(name_en=Concat(Value("Occupation of public space, case "), "code"))
    return manager


@pytest.mark.parametrize("width,height", [(1440, 900), (390, 844)])
def test_no_dashboard_label_is_cut_short_in_english(browser, live_server, demo_history, width, height):
    context = browser.new_context(
        base_url=live_server.url, locale="en-US", viewport={"width": width, "height": height}, bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    login(page, demo_history.username, PASSWORD)
    page.goto("/assessment/dashboard/")
    for chart in CHARTS:
        page.wait_for_selector(f"[data-testid={chart}][data-rendered='1'] svg")
    texts = {chart: page.locator(f"[data-testid={chart}] svg text").all_text_contents() for chart in CHARTS}
    cut = {chart: [t for t in words if "…" in t or "..." in t] for chart, words in texts.items()}
    assert not any(cut.values()), cut
    # the category chart names each category in full (wrapped, when the phone is narrow)
    category_text = " ".join(texts["chart-category"])
    assert "Occupation" in category_text and "public space" in category_text, texts["chart-category"]
    context.close()
