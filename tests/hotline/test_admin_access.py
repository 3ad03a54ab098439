import pytest
from django.urls import reverse

from tests.factories import login_to_admin

pytestmark = pytest.mark.django_db


def test_the_city_administrator_may_use_the_admin(client, city_admin):
    login_to_admin(client, city_admin)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:districts_alias_add")).status_code == 200


@pytest.mark.parametrize("who", ["agent", "xiluoyuan_handler", "fengtai_manager", "water_dept_handler"])
def test_no_other_role_may_enter_the_admin_even_as_staff(request, client, who):
    user = request.getfixturevalue(who)
    user.is_staff = True
    user.save()
    client.force_login(user)
    resp = client.get(reverse("admin:index"))
    assert resp.status_code == 302 and "login" in resp.url
    assert client.get(reverse("admin:hotline_call_changelist")).status_code == 302


def test_the_admin_call_list_masks_the_phone(client, city_admin):
    from tests.factories import CallFactory

    CallFactory(caller_phone="13811012345")
    login_to_admin(client, city_admin)
    body = client.get(reverse("admin:hotline_call_changelist")).content.decode()
    assert "138****2345" in body and "13811012345" not in body
