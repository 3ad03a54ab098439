"""Every governance figure and dashboard number leads to the orders behind it, scoped per role; the
city's street ranking has a district column and filter; the assessment index asks access.py."""

import re
from datetime import timedelta
from html import unescape

import pytest

from assessment import rulesets
from assessment.governance import services as governance
from assessment.models import Alert, MonthlyTopic
from assessment.snapshots import services
from tests.assessment.conftest import bj, make_order, make_orders
from tests.factories import PASSWORD, UserFactory, division
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db

NOW = bj(2026, 11, 20, 10, 0)
XILUOYUAN, YOUANMEN, XUEYUANLU = "110106003", "110106001", "110108010"
BEHIND = "/assessment/governance/orders/"
CALLS = "/assessment/governance/calls/"  # figures that count calls list the calls (and their orders)


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def listed(resp) -> set[str]:
    assert resp.status_code == 200, resp.content.decode()[:500]
    return {o.number for o in resp.context["page"]}


def listed_calls(resp) -> set[str]:
    """The orders the listed calls became (each of these fixtures' calls is an order's own)."""
    assert resp.status_code == 200, resp.content.decode()[:500]
    return {c.led_to.number for c in resp.context["page"] if c.led_to}


def hrefs(html: str, testid: str) -> list[str]:
    return [unescape(h) for h in re.findall(rf'data-testid="{testid}"[^>]*href="([^"]+)"', html)]


@pytest.fixture
def surge(settings, category, other_category):
    """Six orders of one category in 西罗园 within the hour (a surge), and the orders that must not
    be counted with it: another category, the same category two hours earlier, another street."""
    settings.SURGE_MIN_CALLS, settings.SURGE_WINDOW_MINUTES = 5, 60
    inside = [
        make_order(
            XILUOYUAN, callback_at=None, state="signed", category=category, dispatched_at=NOW - timedelta(minutes=5 * i)
        )
        for i in range(6)
    ]
    outside = [
        make_order(XILUOYUAN, callback_at=None, state="signed", category=other_category, dispatched_at=NOW),
        make_order(
            XILUOYUAN, callback_at=None, state="signed", category=category, dispatched_at=NOW - timedelta(hours=2)
        ),
        make_order(YOUANMEN, callback_at=None, state="signed", category=category, dispatched_at=NOW),
    ]
    governance.surge_detect(now=NOW)
    return Alert.objects.get(), inside, outside


@pytest.fixture
def other_category(db):
    from hotline.models import Category

    return Category.objects.get_or_create(code="T-ASSESS-2", defaults={"name": "占道经营", "level": 3})[0]


def test_a_surge_alert_leads_to_exactly_the_orders_it_counted(client, fengtai_manager, surge):
    alert, inside, _outside = surge
    c = login(client, fengtai_manager)
    # given: the alert on the governance page links its call count
    links = hrefs(c.get("/assessment/governance/").content.decode(), "alert-orders")
    assert links == [f"{CALLS}?alert={alert.pk}"]
    # when
    resp = c.get(links[0])
    # then
    assert listed_calls(resp) == {o.number for o in inside}
    assert resp.context["count"] == alert.calls == 6
    assert any("西罗园街道" in value for _label, value in resp.context["criteria"])


@pytest.mark.parametrize("fixture,status", [("haidian_manager", 404), ("xiluoyuan_handler", 403), ("agent", 403)])
def test_nobody_else_opens_the_alerts_orders(client, surge, request, fixture, status):
    alert, _inside, _outside = surge
    resp = login(client, request.getfixturevalue(fixture)).get(f"{CALLS}?alert={alert.pk}")
    assert resp.status_code == status


def test_the_city_opens_any_alert_and_its_orders(client, city_admin, surge):
    alert, inside, _outside = surge
    assert listed_calls(login(client, city_admin).get(f"{CALLS}?alert={alert.pk}")) == {o.number for o in inside}


def test_a_hot_topic_leads_to_its_streets_orders_since_the_window(client, fengtai_manager, category, other_category):
    from django.utils import timezone

    now = timezone.now()

    # given: 6 recent orders of one category in 西罗园 (none before): a hot topic
    def signed(at, cat=category):
        return make_order(XILUOYUAN, callback_at=None, state="signed", category=cat, dispatched_at=at)

    recent = [signed(now - timedelta(days=i)) for i in range(6)]
    old = signed(now - timedelta(days=20))
    signed(now, other_category)
    c = login(client, fengtai_manager)
    # when: following the link the governance page makes for it
    links = hrefs(c.get("/assessment/governance/").content.decode(), "topic-orders")
    assert len(links) == 1
    resp = c.get(links[0])
    # then: the same six, not the old one nor the other category
    assert listed_calls(resp) == {o.number for o in recent}
    assert old.number not in listed_calls(resp)


def test_a_repeat_caller_is_linked_by_a_call_not_by_the_number(client, fengtai_manager, haidian_manager, category):
    from django.utils import timezone

    # The page counts the last 30 days before the real now (a fixed NOW fell out of it in December).
    now = timezone.now()
    # given: three orders from one caller in 西罗园, one from someone else
    mine = [
        make_order(
            XILUOYUAN, callback_at=None, state="signed", phone="13912345678", dispatched_at=now - timedelta(days=i)
        )
        for i in range(3)
    ]
    make_order(XILUOYUAN, callback_at=None, state="signed", phone="13800000000", dispatched_at=now)
    c = login(client, fengtai_manager)
    html = c.get("/assessment/governance/").content.decode()
    links = hrefs(html, "caller-orders")
    # then: no phone number in the URL, and the link lists the caller's orders
    assert len(links) == 1 and "13912345678" not in links[0] and "5678" not in links[0].split("since")[0]
    assert listed_calls(c.get(links[0])) == {o.number for o in mine}
    # another district cannot use the call id
    call_id = re.search(r"caller=(\d+)", links[0]).group(1)
    assert login(client, haidian_manager).get(f"{CALLS}?caller={call_id}").status_code == 404
    assert client.get(f"{BEHIND}?caller={call_id}").status_code == 404


def test_a_repeat_complaint_leads_to_the_order_and_its_like(client, fengtai_manager, category):
    order = make_order(XILUOYUAN, callback_at=None, state="signed")
    WorkOrder.objects.filter(pk=order.pk).update(duplicate_count=3)
    html = login(client, fengtai_manager).get("/assessment/governance/").content.decode()
    assert hrefs(html, "repeat-order") == [f"/orders/{order.pk}/"]
    assert order.number in listed(client.get(hrefs(html, "repeat-similar")[0]))


def test_every_monthly_topic_figure_lists_the_orders_it_counts(client, city_admin, fengtai_manager, category):
    # given: a 丰台 topic; in November 2 open, 3 completed (2 resolved of 3 called back), one in 海淀
    opened = [
        make_order(XILUOYUAN, callback_at=None, valid=False, state="signed", dispatched_at=bj(2026, 11, 3 + i))
        for i in range(2)
    ]
    done = make_orders(XILUOYUAN, at=bj(2026, 11, 15), contacted=3, resolved=2, satisfied=3, basic=0, unsatisfied=0)
    for o in done:
        WorkOrder.objects.filter(pk=o.pk).update(dispatched_at=bj(2026, 11, 10))
    make_order(XUEYUANLU, callback_at=None, state="signed", dispatched_at=bj(2026, 11, 3))
    topic = governance.topic_create(
        acting_user=city_admin, period="2026-11", category_id=category.pk, title="噪声治理", district_code="110106"
    )
    c = login(client, fengtai_manager)
    html = c.get("/assessment/topics/").content.decode()
    row = re.search(rf'data-testid="topic-{topic.pk}".*?</tr>', html, re.S).group(0)
    links = [unescape(h) for h in re.findall(r'href="([^"]+)"', row)]
    figures = re.findall(r">(\d+|[\d.]+%)</a>", row)
    # then: each figure's link lists as many orders as the figure says
    by_measure = {re.search(r"measure=(\w+)", link).group(1): listed(c.get(link)) for link in links}
    assert {m: len(v) for m, v in by_measure.items()} == {"total": 5, "open": 2, "completed": 3, "resolved": 2}
    assert figures[:3] == ["5", "2", "3"]
    assert by_measure["open"] == {o.number for o in opened}


def test_the_dashboard_load_leads_to_the_open_and_overdue_orders(client, fengtai_manager, haidian_manager, category):
    from django.utils import timezone

    now = timezone.now()
    late = make_order(XILUOYUAN, callback_at=None, state="signed", dispatched_at=now - timedelta(days=10))
    fresh = make_order(XILUOYUAN, callback_at=None, state="signed", dispatched_at=now - timedelta(hours=1))
    make_order(XILUOYUAN, callback_at=now, state="completed", dispatched_at=now - timedelta(days=10))
    unit_id = late.lead_unit_id
    c = login(client, fengtai_manager)
    load = c.get("/assessment/dashboard/data/").json()["load"]
    assert [(r["unit"], r["open"], r["overdue"]) for r in load] == [("西罗园街道", 2, 1)]
    assert listed(c.get(load[0]["open_url"])) == {late.number, fresh.number}
    assert listed(c.get(load[0]["overdue_url"])) == {late.number}
    assert f"unit={unit_id}" in load[0]["open_url"]
    # 海淀 asking for 丰台's unit sees none of its orders
    assert listed(login(client, haidian_manager).get(load[0]["open_url"])) == set()


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?alert=abc",
        "?alert=0",
        "?alert=99999999999999999999999",
        "?since=yesterday",
        "?since=0001-01-01",
        "?until=%00",
        "?state=nonsense",
        "?topic=1&measure=everything",
        "?unit=%00",
    ],
)
@pytest.mark.parametrize("page", [BEHIND, CALLS])
def test_bad_filters_are_refused_with_a_message(client, fengtai_manager, query, page):
    resp = login(client, fengtai_manager).get(page + query)
    assert resp.status_code == 400
    # the page's own message, or the edge's (NUL bytes and 19+ digit numbers never reach the page)
    body = resp.content.decode()
    assert (resp.context and resp.context.get("error")) or "不允许的字符" in body or "数字过大" in body


def test_an_unknown_alert_or_topic_is_not_found(client, fengtai_manager):
    c = login(client, fengtai_manager)
    assert c.get(f"{CALLS}?alert=999999").status_code == 404
    assert c.get(f"{BEHIND}?topic=999999").status_code == 404


def test_a_topic_of_another_district_is_not_found(client, city_admin, haidian_manager, category):
    topic = MonthlyTopic.objects.create(
        period="2026-11", category=category, district=division("110106"), title="丰台专题", created_by=city_admin
    )
    assert login(client, haidian_manager).get(f"{BEHIND}?topic={topic.pk}").status_code == 404


# --- the ranking of all streets: district column and filter -------------------------------------
@pytest.fixture
def october(city_admin, category):
    rulesets.ruleset_publish(acting_user=city_admin, period_start_day=1, min_valid_callbacks=3, bottom_n=1)
    at = bj(2026, 10, 5, 10)
    make_orders(XILUOYUAN, at=at, contacted=4, resolved=4, satisfied=3, basic=1, unsatisfied=1)
    make_orders(XUEYUANLU, at=at, contacted=3, resolved=2, satisfied=2, basic=0, unsatisfied=1)
    return services.snapshot_compute_provisional(period="2026-10", now=bj(2026, 10, 31, 12))


def test_the_city_ranking_of_all_streets_has_a_district_column_and_filter(client, city_admin, october):
    c = login(client, city_admin)
    html = c.get("/assessment/rankings/streets/city/?period=2026-10").content.decode()
    cell = re.search(r'data-testid="district-110106003">(.*?)</td>', html).group(1)
    assert "丰台区" in cell and "district=110106" in cell
    assert re.search(r'data-testid="district-110108010">.*?海淀区', html)
    form = re.search(r'<form[^>]*data-testid="district-filter".*?</form>', html, re.S).group(0)
    assert 'value="110108"' in form and 'value=""' in form  # every district, and back to the whole city
    # the filter leads to one district's streets, with their citywide rank kept
    resp = c.get("/assessment/rankings/streets/?period=2026-10&district=110108")
    assert {r.unit.code for r in resp.context["rows"]} >= {XUEYUANLU}
    assert all(r.district.code == "110108" for r in resp.context["rows"])
    assert "全市排名" in resp.content.decode()
    # the empty choice goes back to the whole city
    assert c.get("/assessment/rankings/streets/?period=2026-10&district=").status_code == 302


def test_a_district_manager_gets_no_district_filter(client, fengtai_manager, october):
    html = login(client, fengtai_manager).get("/assessment/rankings/streets/?period=2026-10").content.decode()
    assert 'data-testid="district-filter"' not in html


@pytest.mark.parametrize(
    "fixture,target",
    [
        ("city_admin", "/assessment/dashboard/"),
        ("fengtai_manager", "/assessment/rankings/streets/"),
        ("xiluoyuan_handler", "/assessment/units/{unit}/"),
        ("water_dept_handler", "/assessment/units/{unit}/"),
        ("agent", None),
    ],
)
def test_the_assessment_index_leads_each_role_to_its_page(client, request, fixture, target):
    user = request.getfixturevalue(fixture)
    resp = login(client, user).get("/assessment/")
    if target is None:
        assert resp.status_code == 403
    else:
        assert resp.status_code == 302 and resp.url == target.format(unit=user.unit_id)


def test_a_district_account_without_a_district_is_refused_at_the_index(client):
    user = UserFactory(role="district", unit=None)
    assert login(client, user).get("/assessment/").status_code == 403


def test_the_home_panels_figures_lead_to_the_scorecard_and_the_orders(client, fengtai_manager, city_admin):
    from django.utils import timezone

    make_orders(XILUOYUAN, at=timezone.now(), contacted=3, resolved=3, satisfied=3, basic=0, unsatisfied=0)
    services.snapshot_compute_provisional(period=rulesets.current_period())
    for user in (fengtai_manager, city_admin):
        c = login(client, user)
        html = c.get("/").content.decode()
        panel = re.search(r'data-testid="assessment-panel".*?</section>', html, re.S).group(0)
        links = [unescape(h) for h in re.findall(r'href="([^"]+)"', panel) if "snapshot=" in h]
        assert links and any("/assessment/orders/" in h for h in links)
        # every figure's link opens for the role that sees it
        assert {c.get(h).status_code for h in links} == {200}


def test_a_governance_list_that_reached_its_limit_says_so(client, fengtai_manager, category):
    street = division(XILUOYUAN)
    Alert.objects.bulk_create(
        [
            Alert(
                category=category,
                district=division("110106"),
                street=street,
                window_start=NOW - timedelta(hours=i),
                window_end=NOW - timedelta(hours=i),
                calls=5,
                raised_at=NOW - timedelta(hours=i),
            )
            for i in range(31)
        ]
    )
    html = login(client, fengtai_manager).get("/assessment/governance/").content.decode()
    assert html.count('data-testid="alert-orders"') == 30
    assert 'data-testid="cut-alerts"' in html and "只显示前 30 条" in html
    assert 'data-testid="cut-hot-spots"' not in html


def test_the_dashboard_names_categories_in_english(client, city_admin, category):
    from django.utils import timezone

    category.name_en = "Noise nuisance"
    category.save()
    # Dispatched now: the dashboard counts the orders dispatched in the period (the factory's default,
    # three days before the callback, is last month's on the 1st to the 3rd).
    now = timezone.now()
    make_orders(XILUOYUAN, at=now, dispatched_at=now, contacted=3, resolved=3, satisfied=3, basic=0, unsatisfied=0)
    services.snapshot_compute_provisional(period=rulesets.current_period())
    c = login(client, city_admin)
    c.cookies["django_language"] = "en"
    names = [name for name, _n in c.get("/assessment/dashboard/data/").json()["by_category"]]
    assert "Noise nuisance" in names and "噪声扰民" not in names


def test_a_section_members_home_has_no_assessment_links_it_could_not_open(client):
    """A member of a street's section (科室) may not open the unit's assessment: the home page shows
    no panel with links that would answer 403, and the center still gets its panel."""
    from django.utils import timezone

    from districts.models import Section
    from tests.factories import unit

    make_orders(XILUOYUAN, at=timezone.now(), contacted=2, resolved=2, satisfied=2, basic=0, unsatisfied=0)
    services.snapshot_compute_provisional(period=rulesets.current_period())
    section = Section.objects.create(unit=unit(XILUOYUAN), name="城管办")
    member = UserFactory(role="street", unit=unit(XILUOYUAN), section=section)
    center = UserFactory(role="street", unit=unit(XILUOYUAN))
    c = login(client, member)
    html = c.get("/").content.decode()
    assert 'data-testid="assessment-panel"' not in html
    assert "/assessment/" not in html
    assert c.get("/assessment/").status_code == 403
    c = login(client, center)
    html = c.get("/").content.decode()
    assert 'data-testid="assessment-panel"' in html
    panel = re.search(r'data-testid="assessment-panel".*?</section>', html, re.S).group(0)
    links = [unescape(h) for h in re.findall(r'href="([^"]+)"', panel)]
    assert links and {c.get(h).status_code for h in links} <= {200, 302}


def test_a_confidential_repeat_caller_is_listed_only_for_who_may_see_callers(
    client, fengtai_manager, city_admin, category
):
    from django.utils import timezone

    from assessment.governance import services
    from hotline.models import Call

    now = timezone.now()
    mine = [
        make_order(
            XILUOYUAN, callback_at=None, state="signed", phone="13912345678", dispatched_at=now - timedelta(days=i)
        )
        for i in range(3)
    ]
    Call.objects.filter(pk__in=[o.call_id for o in mine]).update(confidential=True)
    # the district does not see who a confidential caller is: not even a masked number
    later = timezone.now() + timedelta(seconds=1)  # the window's end is exclusive
    assert services.repeat_callers(user=fengtai_manager, now=later) == []
    # the city does
    assert [r["calls"] for r in services.repeat_callers(user=city_admin, now=later)] == [3]
