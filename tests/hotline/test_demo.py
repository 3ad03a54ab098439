import io

import pytest
from django.core.management import CommandError, call_command

from hotline.demo import NotADemoDatabase, setup_demo
from hotline.demo.accounts import DEMO_USERS
from hotline.models import Call, User

pytestmark = pytest.mark.django_db


def test_it_creates_one_user_per_demo_login_with_a_matching_unit():
    setup_demo(not_production=True)
    for demo in DEMO_USERS:
        user = User.objects.get(username=demo.username)
        user.full_clean()  # role and unit kind agree
        assert user.unit.code == demo.unit_code


def test_running_it_twice_changes_nothing():
    first = setup_demo(not_production=True)
    counts = (User.objects.count(), Call.objects.count())
    second = setup_demo(not_production=True)
    assert first["users"] == len(DEMO_USERS) and first["calls"] > 0
    assert {k: n for k, n in second.items() if n} == {}
    assert (User.objects.count(), Call.objects.count()) == counts


def test_two_streets_of_one_district_are_among_the_demo_logins():
    setup_demo(not_production=True)
    streets = User.objects.filter(role="street").select_related("unit")
    by_district = {}
    for u in streets:
        by_district.setdefault(u.unit.district_id, []).append(u)
    assert any(len(us) >= 2 for us in by_district.values())


def test_it_refuses_a_database_that_is_not_a_development_one(settings):
    # given: DEBUG off, as in production
    settings.DEBUG = False
    users_before, calls_before = User.objects.count(), Call.objects.count()
    # when / then
    with pytest.raises(NotADemoDatabase):
        setup_demo()
    assert (User.objects.count(), Call.objects.count()) == (users_before, calls_before)


def test_the_command_refuses_without_the_flag_and_runs_with_it(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="i-know-this-is-not-production"):
        call_command("setup_demo", stdout=io.StringIO())
    assert not User.objects.filter(username="agent").exists()
    call_command("setup_demo", "--i-know-this-is-not-production", stdout=io.StringIO())
    assert User.objects.filter(username="agent").exists()


def test_it_runs_without_the_flag_when_debug_is_on(settings):
    settings.DEBUG = True
    setup_demo()
    assert User.objects.filter(username="agent").exists()


def test_the_city_center_unit_exists_without_any_demo_data():
    # created by a data migration: a production install has it before anyone runs the demo
    from districts.models import CENTER_UNIT_CODE, Unit

    assert Unit.objects.filter(code=CENTER_UNIT_CODE, kind=Unit.Kind.CENTER).exists()


def test_each_handling_demo_order_is_filed_under_a_category_that_fits_its_text():
    from hotline.demo import handling as demo_handling
    from workorders.models import WorkOrder

    setup_demo(not_production=True)
    for key, *_rest, description in demo_handling.ORDERS:
        order = WorkOrder.objects.select_related("category").get(call__description=description)
        assert order.category.name == demo_handling.CATEGORY_OF[key], description
    assert len({name for name in demo_handling.CATEGORY_OF.values()}) == len(demo_handling.ORDERS)
