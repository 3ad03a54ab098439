"""Surge warnings and hot topics on generated call patterns; reports and 每月一题."""

from datetime import timedelta

import pytest
from openpyxl import load_workbook

from assessment import rulesets
from assessment.governance import services as governance
from assessment.models import Alert, MonthlyTopic, Report
from hotline.errors import AccessDenied, DomainError
from hotline.models import Call, Category
from tests.assessment.conftest import bj, make_order
from tests.factories import PASSWORD, division
from workorders.models import Notification

pytestmark = pytest.mark.django_db

NOW = bj(2026, 11, 20, 10, 0)


@pytest.fixture
def other_category(db):
    return Category.objects.get_or_create(code="T-ASSESS-2", defaults={"name": "占道经营", "level": 3})[0]


def calls(n, *, category, street="110106003", community=None, start=NOW, every=timedelta(minutes=5)):
    street_div = division(street)
    community_div = community or street_div.children.order_by("code").first()
    Call.objects.bulk_create(
        [
            Call(
                caller_phone=f"1390000{i:04d}",
                request_type="complaint",
                description="测试",
                street=street_div,
                district_id=street_div.district_id,
                community=community_div,
                category=category,
                received_at=start - every * i,
            )
            for i in range(n)
        ]
    )
    return community_div


def test_a_surge_notifies_the_district_once_per_window(settings, category, fengtai_manager, haidian_manager):
    # given: 6 similar calls in one community within 30 minutes, 4 in another street (below 5)
    settings.SURGE_MIN_CALLS, settings.SURGE_WINDOW_MINUTES = 5, 60
    community = calls(6, category=category)
    calls(4, category=category, street="110106001")
    # when
    raised = governance.surge_detect(now=NOW)
    again = governance.surge_detect(now=NOW + timedelta(minutes=5))
    # then
    assert len(raised) == 1 and again == []
    alert = Alert.objects.get()
    assert (alert.community_id, alert.calls, alert.street.code) == (community.pk, 6, "110106003")
    notes = Notification.objects.filter(kind="surge")
    assert list(notes.values_list("user", flat=True)) == [fengtai_manager.pk]
    assert "6" in notes.get().title and community.name in notes.get().title


def test_calls_spread_over_time_or_categories_raise_no_surge(settings, category, other_category, fengtai_manager):
    settings.SURGE_MIN_CALLS, settings.SURGE_WINDOW_MINUTES = 5, 60
    calls(6, category=category, every=timedelta(minutes=20))  # 6 calls over 100 minutes: 3 in the window
    calls(3, category=other_category)
    assert governance.surge_detect(now=NOW) == []
    assert not Alert.objects.exists() and not Notification.objects.filter(kind="surge").exists()


def test_a_surge_is_raised_again_in_a_later_window_while_it_goes_on(settings, category, fengtai_manager):
    settings.SURGE_MIN_CALLS, settings.SURGE_WINDOW_MINUTES = 5, 60
    calls(6, category=category)
    calls(6, category=category, start=NOW + timedelta(minutes=90))
    assert len(governance.surge_detect(now=NOW)) == 1
    assert len(governance.surge_detect(now=NOW + timedelta(minutes=90))) == 1
    assert Alert.objects.count() == 2


def test_hot_topics_rise_against_their_own_baseline(category, other_category, city_admin, fengtai_manager):
    # given: 西罗园 噪声: 2 a week for the 4 weeks before, 8 in the last week (rising)
    for week in range(1, 5):
        calls(2, category=category, start=NOW - timedelta(days=7 * week + 1), every=timedelta(hours=1))
    calls(8, category=category, start=NOW - timedelta(hours=1), every=timedelta(hours=3))
    # 右安门 占道: 8 a week all along (busy but not rising)
    for week in range(0, 5):
        calls(
            8,
            category=other_category,
            street="110106001",
            start=NOW - timedelta(days=7 * week + 1),
            every=timedelta(hours=2),
        )
    # 学院路 (海淀): rising, but not the 丰台 manager's to see
    calls(6, category=category, street="110108010", start=NOW - timedelta(hours=1), every=timedelta(hours=1))
    # when
    topics = governance.hot_topics(user=city_admin, now=NOW)
    fengtai = governance.hot_topics(user=fengtai_manager, now=NOW)
    # then
    assert [(t["street"], t["recent"], t["baseline"]) for t in topics] == [
        ("西罗园街道", 8, 2.0),
        ("学院路街道", 6, 0.0),
    ]
    assert [t["street"] for t in fengtai] == ["西罗园街道"]


def test_repeat_complaints_and_callers_are_listed_masked(category, fengtai_manager):
    from workorders.models import WorkOrder

    order = make_order("110106003", callback_at=None, state="signed")
    WorkOrder.objects.filter(pk=order.pk).update(duplicate_count=3)
    calls(3, category=category)
    Call.objects.filter(caller_phone__startswith="1390000").update(caller_phone="13912345678", received_at=NOW)
    assert [o.pk for o in governance.repeat_orders(user=fengtai_manager)] == [order.pk]
    callers = governance.repeat_callers(user=fengtai_manager, now=NOW + timedelta(hours=1))
    assert [(c["phone"], c["calls"]) for c in callers] == [("139****5678", 3)]
    assert Call.objects.get(pk=callers[0]["call_id"]).caller_phone == "13912345678"  # a call id, not the number


def test_reports_are_generated_once_with_a_downloadable_file(
    category, settings, tmp_path, client, fengtai_manager, haidian_manager
):
    # given: yesterday's orders in 丰台
    settings.MEDIA_ROOT = tmp_path
    for i in range(3):
        make_order("110106003", callback_at=bj(2026, 11, 19, 15), dispatched_at=bj(2026, 11, 19, 9 + i))
    # when: the morning run of 2026-11-20 (a Friday) twice
    first = governance.reports_generate_due(now=bj(2026, 11, 20, 6))
    second = governance.reports_generate_due(now=bj(2026, 11, 20, 6, 30))
    # then: daily reports for the city and 16 districts, once
    assert len(first) == 17 and [r.pk for r in first] == [r.pk for r in second]
    assert Report.objects.count() == 17 and not Report.objects.exclude(kind="daily").exists()
    fengtai = Report.objects.get(scope_key="110106")
    assert fengtai.content["orders"] == 3 and fengtai.content["resolution_rate"] == 1.0
    # the district manager downloads its own report, not another district's
    assert client.login(username=fengtai_manager.username, password=PASSWORD)
    resp = client.get(f"/assessment/reports/{fengtai.pk}/download/")
    assert resp.status_code == 200
    path = tmp_path / "r.xlsx"
    path.write_bytes(b"".join(resp.streaming_content))
    assert load_workbook(path).worksheets[0]["B3"].value == 3
    haidian = Report.objects.get(scope_key="110108")
    assert client.get(f"/assessment/reports/{haidian.pk}/download/").status_code == 404
    listed = client.get("/assessment/reports/").context["reports"]
    assert {r.scope_key for r in listed} == {"110106"}


def test_weekly_and_monthly_reports_come_on_their_days(category, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    kinds = {r.kind for r in governance.reports_generate_due(now=bj(2026, 6, 1, 6))}  # a Monday and the 1st
    assert kinds == {"daily", "weekly", "monthly"}


def test_the_city_sets_a_monthly_topic_and_tracks_it(category, city_admin, fengtai_manager, client):
    # given: 2 orders of the category in November (one completed and called back resolved), one in 海淀
    make_order("110106003", callback_at=bj(2026, 11, 10), dispatched_at=bj(2026, 11, 5))
    make_order("110106001", callback_at=None, dispatched_at=bj(2026, 11, 6), state="signed", valid=False)
    make_order("110108010", callback_at=bj(2026, 11, 10), dispatched_at=bj(2026, 11, 5))
    # when
    topic = governance.topic_create(
        acting_user=city_admin, period="2026-11", category_id=category.pk, title="噪声扰民专项"
    )
    # then
    city = governance.topics_progress(user=city_admin)[0]
    assert (city["total"], city["open"], city["completed"], city["resolution_rate"]) == (3, 1, 2, 1.0)
    fengtai = governance.topics_progress(user=fengtai_manager)[0]
    assert fengtai["total"] == 2
    with pytest.raises(AccessDenied):
        governance.topic_create(acting_user=fengtai_manager, period="2026-11", category_id=category.pk, title="x")
    with pytest.raises(DomainError):
        governance.topic_create(acting_user=city_admin, period="2026-11", category_id=category.pk, title="重复")
    assert MonthlyTopic.objects.get() == topic
    # the page refuses a district manager's POST and shows the topic
    assert client.login(username=fengtai_manager.username, password=PASSWORD)
    assert (
        client.post("/assessment/topics/", {"period": "2026-11", "title": "x", "category": category.pk}).status_code
        == 403
    )
    assert "噪声扰民专项" in client.get("/assessment/topics/").content.decode()


@pytest.mark.parametrize(
    "fixture,status", [("fengtai_manager", 200), ("city_admin", 200), ("xiluoyuan_handler", 403), ("agent", 403)]
)
def test_governance_pages_per_role(client, request, fixture, status):
    user = request.getfixturevalue(fixture)
    assert client.login(username=user.username, password=PASSWORD)
    for url in ("/assessment/governance/", "/assessment/reports/", "/assessment/topics/"):
        assert client.get(url).status_code == status, url


def test_a_district_sees_city_wide_topics_and_its_own_but_not_another_districts(
    category, other_category, city_admin, fengtai_manager, haidian_manager
):
    # given: one city-wide topic and one for 海淀 only
    governance.topic_create(acting_user=city_admin, period="2026-11", category_id=category.pk, title="全市噪声专项")
    governance.topic_create(
        acting_user=city_admin,
        period="2026-11",
        category_id=other_category.pk,
        title="海淀专项",
        district_code="110108",
    )
    # when / then
    titles = lambda user: {row["topic"].title for row in governance.topics_progress(user=user)}  # noqa: E731
    assert titles(city_admin) == {"全市噪声专项", "海淀专项"}
    assert titles(haidian_manager) == {"全市噪声专项", "海淀专项"}
    assert titles(fengtai_manager) == {"全市噪声专项"}


def _queries(fn):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        result = fn()
    return result, len(ctx)


def test_surge_detection_takes_as_many_queries_for_six_clusters_as_for_two(
    settings, category, other_category, fengtai_manager, haidian_manager
):
    settings.SURGE_MIN_CALLS, settings.SURGE_WINDOW_MINUTES = 5, 60
    # given: two clusters now, one in each district
    calls(6, category=category, street="110106003")
    calls(7, category=category, street="110108010")
    two, two_queries = _queries(lambda: governance.surge_detect(now=NOW))
    # and two hours later six new ones: three streets × two categories in 丰台 and 海淀
    later = NOW + timedelta(hours=2)
    for street in ("110106001", "110106002", "110108001"):
        calls(5, category=category, street=street, start=later)
        calls(8, category=other_category, street=street, start=later)
    # when
    six, six_queries = _queries(lambda: governance.surge_detect(now=later))
    # then
    assert (len(two), len(six)) == (2, 6)
    assert six_queries == two_queries <= 12
    # the figures are those of each cluster, largest first, and each district's manager is told of its own
    assert [(a.street.code, a.calls) for a in two] == [("110108010", 7), ("110106003", 6)]
    assert [a.calls for a in six] == [8, 8, 8, 5, 5, 5]
    assert all(a.notified == 1 and a.window_start == later for a in six)
    notes = Notification.objects.filter(kind="surge")
    assert notes.filter(user=fengtai_manager).count() == 1 + 4 and notes.filter(user=haidian_manager).count() == 1 + 2
    titles = set(notes.filter(user=haidian_manager).values_list("title", flat=True))
    place = division("110108010").children.order_by("code").first().name
    assert f"爆单预警：{place} “噪声扰民” 60 分钟内 7 件来电" in titles


def test_a_surge_tells_every_active_member_of_the_district_and_no_one_else(
    settings, category, fengtai_manager, xiluoyuan_handler
):
    from tests.factories import UserFactory, unit

    settings.SURGE_MIN_CALLS, settings.SURGE_WINDOW_MINUTES = 5, 60
    colleague = UserFactory(role="district", unit=unit("110106"))
    UserFactory(role="district", unit=unit("110106"), is_active=False)
    calls(5, category=category)
    # when
    (alert,) = governance.surge_detect(now=NOW)
    # then
    assert alert.notified == 2
    notified = set(Notification.objects.filter(kind="surge").values_list("user", flat=True))
    assert notified == {fengtai_manager.pk, colleague.pk}


def test_only_the_new_clusters_of_a_run_are_alerted(settings, category, other_category, fengtai_manager):
    settings.SURGE_MIN_CALLS, settings.SURGE_WINDOW_MINUTES = 5, 60
    # given: one cluster alerted 20 minutes ago, still going on; another one starting since
    calls(6, category=category, start=NOW - timedelta(minutes=20))
    assert len(governance.surge_detect(now=NOW - timedelta(minutes=20))) == 1
    calls(5, category=other_category, street="110106001")
    # when
    raised = governance.surge_detect(now=NOW)
    # then
    assert [(a.category_id, a.street.code) for a in raised] == [(other_category.pk, "110106001")]
    assert Alert.objects.count() == 2 and Notification.objects.filter(kind="surge").count() == 2


def test_a_run_that_loses_the_race_for_a_window_raises_and_notifies_nothing(settings, category, fengtai_manager):
    settings.SURGE_MIN_CALLS, settings.SURGE_WINDOW_MINUTES = 5, 60
    community = calls(6, category=category)
    # given: another run's alert for the same cluster and window, committed after this run looked for
    # recent alerts (so its raised_at is made to fall outside the window this run checks)
    Alert.objects.create(
        category=category,
        district_id=community.district_id,
        street=division("110106003"),
        community=community,
        community_key=community.pk,
        window_start=NOW,  # NOW is on the hour: the bucket of a 60-minute window
        window_end=NOW,
        calls=6,
        raised_at=NOW - timedelta(hours=2),
    )
    # when
    raised = governance.surge_detect(now=NOW)
    # then
    assert raised == []
    assert Alert.objects.count() == 1 and not Notification.objects.filter(kind="surge").exists()


def test_topics_are_not_added_in_the_admin_around_the_service(client, city_admin, category):
    from django.urls import reverse

    from tests.factories import login_to_admin

    topic = governance.topic_create(acting_user=city_admin, period="2026-11", category_id=category.pk, title="噪声")
    login_to_admin(client, city_admin)
    assert client.get(reverse("admin:assessment_monthlytopic_add")).status_code == 403
    page = client.get(reverse("admin:assessment_monthlytopic_change", args=[topic.pk]))
    assert page.status_code == 200 and 'name="period"' not in page.content.decode()


def test_topic_progress_is_one_query_however_many_topics(city_admin, category, django_assert_num_queries):
    from hotline.models import Category

    others = list(Category.objects.filter(level=3).exclude(pk=category.pk)[:3])
    governance.topic_create(acting_user=city_admin, period="2026-11", category_id=category.pk, title="一")
    rulesets.ruleset_active()
    with django_assert_num_queries(3):  # the topics, the active rule set, then every topic's figures
        one = governance.topics_progress(user=city_admin)
    for i, other in enumerate(others):
        governance.topic_create(acting_user=city_admin, period="2026-10", category_id=other.pk, title=f"题{i}")
    governance.topic_create(
        acting_user=city_admin, period="2026-11", category_id=others[0].pk, title="丰台", district_code="110106"
    )
    with django_assert_num_queries(3):
        many = governance.topics_progress(user=city_admin)
    assert len(one) == 1 and len(many) == 5


# --- stored lists (refreshed by beat) -------------------------------------------------------------
def _governance_page(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client.get("/assessment/governance/")


def test_stored_lists_are_what_each_supervisor_would_see_live(
    client, category, other_category, city_admin, fengtai_manager
):
    from assessment.models import GovernanceList

    now = bj(2026, 11, 20, 10, 0)
    for week in range(1, 5):
        calls(2, category=category, start=now - timedelta(days=7 * week + 1), every=timedelta(hours=1))
    calls(8, category=category, start=now - timedelta(hours=1), every=timedelta(hours=3))
    calls(6, category=other_category, street="110108010", start=now - timedelta(hours=1), every=timedelta(hours=1))
    Call.objects.filter(street__code="110108010").update(caller_phone="13912345678")
    # when: the beat task's refresh
    refreshed = governance.governance_lists_refresh(now=now)
    # then: the city and each of the 16 districts, three lists each
    assert refreshed == 17 * 3 and GovernanceList.objects.count() == 51
    for user in (city_admin, fengtai_manager):
        stored = governance.governance_selectors.stored_lists(user)
        live = {
            "hot_topics": governance.hot_topics(user=user, now=now, limit=30),
            "repeat_callers": governance.repeat_callers(user=user, now=now),
            "hot_spots": governance.hot_spots(user=user, now=now, limit=15),
        }
        for kind, rows in live.items():
            assert stored[kind][0] == rows, (user.username, kind)
            assert stored[kind][1] == now
    # 海淀's repeat caller is in the city's list and not in 丰台's; no phone number is stored
    haidian = set(Call.objects.filter(street__code="110108010").values_list("pk", flat=True))
    city_rows = governance.governance_selectors.stored_lists(city_admin)["repeat_callers"][0]
    fengtai_rows = governance.governance_selectors.stored_lists(fengtai_manager)["repeat_callers"][0]
    assert any(r["call_id"] in haidian and r["phone"].endswith("5678") for r in city_rows)
    assert fengtai_rows and not any(r["call_id"] in haidian for r in fengtai_rows)
    assert "13912345678" not in str(list(GovernanceList.objects.values_list("rows", flat=True)))


def test_the_page_shows_the_stored_lists_with_their_time_until_the_next_refresh(
    client, category, fengtai_manager, settings
):
    from django.utils import timezone

    settings.LANGUAGE_CODE = "zh-hans"
    now = timezone.now()
    community = calls(3, category=category, start=now - timedelta(hours=1))
    governance.governance_lists_refresh(now=now)
    calls(4, category=category, community=community, start=now - timedelta(minutes=30))  # after the refresh
    html = _governance_page(client, fengtai_manager).content.decode()
    assert 'data-testid="lists-computed"' in html and timezone.localtime(now).strftime("%Y-%m-%d %H:%M") in html
    spots = html.split('data-testid="hot-spots"', 1)[1].split("</table>", 1)[0]
    assert ">3</a>" in spots and ">7</a>" not in spots  # the stored figure, not a live recount
    assert "超过 30 分钟未更新" not in html
    # a refresh picks the new calls up
    governance.governance_lists_refresh(now=timezone.now())
    spots = _governance_page(client, fengtai_manager).content.decode().split('data-testid="hot-spots"', 1)[1]
    assert ">7</a>" in spots.split("</table>", 1)[0]


def test_the_page_says_when_the_stored_lists_are_stale_and_computes_live_without_them(
    client, category, fengtai_manager
):
    from django.utils import timezone

    from assessment.models import GovernanceList

    now = timezone.now()
    calls(3, category=category, start=now - timedelta(hours=1))
    html = _governance_page(client, fengtai_manager).content.decode()
    assert 'data-testid="lists-computed"' not in html  # nothing stored yet: computed now
    assert ">3</a>" in html.split('data-testid="hot-spots"', 1)[1].split("</table>", 1)[0]
    governance.governance_lists_refresh(now=now - timedelta(hours=2))
    assert GovernanceList.objects.filter(scope_key="110106").count() == 3
    html = _governance_page(client, fengtai_manager).content.decode()
    assert "超过 30 分钟未更新" in html


def test_the_refresh_is_a_beat_task():
    from django.conf import settings

    from assessment import tasks

    schedule = settings.CELERY_BEAT_SCHEDULE
    entry = next(e for e in schedule.values() if e["task"] == "assessment.tasks.refresh_governance_lists")
    assert entry["schedule"] <= 900
    assert tasks.refresh_governance_lists() == 17 * 3


def test_a_district_account_without_a_district_gets_empty_lists_not_an_error(client):
    from tests.factories import UserFactory

    user = UserFactory(role="district", unit=None)
    governance.governance_lists_refresh()
    response = _governance_page(client, user)
    assert response.status_code == 200
    assert 'data-testid="lists-computed"' not in response.content.decode()
