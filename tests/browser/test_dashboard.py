"""End to end, as the demo district manager would: the ranking of the district's streets with
trends and charts, a street's satisfaction rate down to exactly the callbacks behind it, and the
ranking downloaded as Excel with the same numbers."""

import re

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from tests.browser.conftest import login
from tests.factories import PASSWORD, UserFactory, unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_history(reference_data):
    from hotline.demo import assessment as demo
    from tests.assessment.conftest import ensure_tiers

    ensure_tiers()  # an earlier transactional test may have flushed the seeded tiers
    manager = UserFactory(username="fengtai-e2e", role="district", unit=unit("110106"))
    demo.setup(now=timezone.now())
    return manager


def test_the_district_manager_goes_from_the_ranking_to_the_callbacks_and_the_excel(page, demo_history, tmp_path):
    from assessment import rulesets
    from assessment.models import SnapshotRow
    from assessment.snapshots import selectors
    from workorders.models import WorkOrder

    snapshot = selectors.published_snapshot(rulesets.current_period())
    xiluoyuan = SnapshotRow.objects.get(snapshot=snapshot, scope="street", unit__code="110106003")

    # the home page shows this month's ranking panel
    login(page, demo_history.username, PASSWORD)
    assert page.get_by_test_id("assessment-panel").is_visible()

    # the dashboard draws its charts (ECharts, vendored) from the stored results
    page.goto("/assessment/dashboard/")
    for chart in ("chart-trend", "chart-ranking", "chart-category", "chart-hour", "chart-response", "chart-load"):
        page.wait_for_selector(f"[data-testid={chart}][data-rendered='1'] svg")
    assert page.locator("[data-testid=heat] .heat-cell").count() >= 20
    # the open/overdue load leads to the orders it counts
    first = page.locator("[data-testid=load-links] a").first
    figure = int(first.inner_text())
    first.click()
    page.wait_for_selector("[data-testid=orders]")
    assert re.match(r"\D*(\d+)", page.get_by_test_id("order-count").inner_text()).group(1) == str(figure)
    page.go_back()

    # the ranking of the district's streets, with the threshold said
    page.goto("/assessment/")
    page.wait_for_selector("[data-testid=ranking]")
    assert "rankings/streets" in page.url
    assert page.get_by_test_id("threshold").is_visible()
    rows = page.locator("[data-testid=ranking] tbody tr")
    assert (
        rows.count() == SnapshotRow.objects.filter(snapshot=snapshot, scope="street", district__code="110106").count()
    )

    # a street's satisfaction rate → exactly the callbacks behind it
    sat = page.get_by_test_id("sat-110106003")
    assert sat.inner_text() == f"{xiluoyuan.satisfaction_rate * 100:.2f}%"
    sat.click()
    page.wait_for_selector("[data-testid=orders]")
    expected = set(
        WorkOrder.objects.filter(
            assessed_unit__code="110106003",
            callback_valid=True,
            excluded=False,
            request_type__in=snapshot.ruleset.counted_request_types,
            callback_at__gte=snapshot.period_start,
            callback_at__lt=snapshot.period_end,
        ).values_list("number", flat=True)
    )
    shown = set(page.locator("[data-testid=order-row] td.mono").all_inner_texts())
    assert len(expected) == xiluoyuan.valid and shown == expected
    assert f"{xiluoyuan.satisfaction_rate * 100:.2f}%" in page.get_by_test_id("formula-satisfaction").inner_text()

    # the ranking as Excel, with the numbers of the page
    page.go_back()
    with page.expect_download() as info:
        page.get_by_test_id("export-xlsx").click()
    path = tmp_path / "ranking.xlsx"
    info.value.save_as(path)
    sheet = load_workbook(path, read_only=True).active
    table = list(sheet.iter_rows(values_only=True))
    header = table[0]
    by_code = {r[header.index("单位编码")]: r for r in table[1:]}
    got = by_code["110106003"]
    assert got[header.index("有效回访")] == xiluoyuan.valid
    # rates are numbers (shown as percentages by the cell format), the score a number
    assert got[header.index("满意率(%)")] == pytest.approx(float(xiluoyuan.satisfaction_rate), abs=1e-9)
    assert got[header.index("综合得分")] == pytest.approx(round(float(xiluoyuan.composite), 2))
    assert got[header.index("排名")] == (xiluoyuan.rank_in_district or "")
    assert len(by_code) == rows.count()
