import pytest

from hotline.demo import DEMO_USERS, setup_demo
from hotline.models import Call, User

pytestmark = pytest.mark.django_db


def test_it_creates_one_user_per_demo_login_with_a_matching_unit():
    setup_demo()
    for demo in DEMO_USERS:
        user = User.objects.get(username=demo.username)
        user.full_clean()  # role and unit kind agree
        assert user.unit.code == demo.unit_code


def test_running_it_twice_changes_nothing():
    first = setup_demo()
    counts = (User.objects.count(), Call.objects.count())
    second = setup_demo()
    assert first["users"] == len(DEMO_USERS) and first["calls"] > 0
    assert {k: n for k, n in second.items() if n} == {}
    assert (User.objects.count(), Call.objects.count()) == counts


def test_two_streets_of_one_district_are_among_the_demo_logins():
    setup_demo()
    streets = User.objects.filter(role="street").select_related("unit")
    by_district = {}
    for u in streets:
        by_district.setdefault(u.unit.district_id, []).append(u)
    assert any(len(us) >= 2 for us in by_district.values())
