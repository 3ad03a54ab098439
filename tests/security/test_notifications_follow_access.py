"""A notification about an order is shown only while its user may see the order: a section member
whose order is reassigned to another section no longer sees, counts or opens its notifications."""

import pytest

from districts.models import Section
from tests.factories import UserFactory, unit
from workorders.lifecycle import assignments, handling
from workorders.models import Notification
from workorders.notifications import selectors

pytestmark = pytest.mark.django_db

XILUOYUAN = "110106003"


@pytest.fixture
def sections(db):
    return (
        Section.objects.create(unit=unit(XILUOYUAN), name="城管办"),
        Section.objects.create(unit=unit(XILUOYUAN), name="平安办"),
    )


@pytest.fixture
def reassigned(make_order, xiluoyuan_handler, sections):
    """An order assigned to 城管办 (its member notified), then reassigned to 平安办."""
    cgb, pab = sections
    member = UserFactory(role="street", unit=unit(XILUOYUAN), section=cgb)
    order = make_order()
    handling.order_sign(order, actor=xiluoyuan_handler)
    assignments.order_assign(order, actor=xiluoyuan_handler, section=cgb)
    assert Notification.objects.filter(user=member, order=order).exists()
    assert selectors.unread_count(member) >= 1
    order.refresh_from_db()
    assignments.order_assign(order, actor=xiluoyuan_handler, section=pab)
    return member, order


def test_a_reassigned_orders_notifications_leave_the_former_members_list(client, reassigned):
    member, order = reassigned
    client.force_login(member)
    page = client.get("/notifications/").content.decode()
    assert order.number not in page
    assert not selectors.visible_notifications(member).filter(order=order).exists()


def test_they_leave_the_unread_count(reassigned):
    member, order = reassigned
    assert selectors.unread_count(member) == 0
    # the row itself stays (the center may give the order back)
    assert Notification.objects.filter(user=member, order=order, read_at__isnull=True).exists()


def test_they_cannot_be_opened(client, reassigned):
    member, order = reassigned
    note = Notification.objects.filter(user=member, order=order).first()
    client.force_login(member)
    assert client.post(f"/notifications/{note.pk}/open/").status_code == 404


def test_the_centers_notifications_about_its_orders_stay(xiluoyuan_handler, make_order):
    order = make_order()
    Notification.objects.create(user=xiluoyuan_handler, order=order, kind="test", title="新工单")
    Notification.objects.create(user=xiluoyuan_handler, kind="surge", title="爆单预警")  # no order
    assert selectors.unread_count(xiluoyuan_handler) >= 2
    assert selectors.visible_notifications(xiluoyuan_handler).filter(order=order).exists()


def test_another_units_order_is_hidden_from_a_street(youanmen_handler, make_order):
    order = make_order()  # 西罗园's
    Notification.objects.create(user=youanmen_handler, order=order, kind="test", title="别处的工单")
    assert selectors.unread_count(youanmen_handler) == 0


def test_they_leave_the_api_list_too(client, reassigned):
    member, order = reassigned
    client.force_login(member)
    data = client.get("/api/v1/notifications/").json()
    rows = data["results"] if isinstance(data, dict) else data
    assert all(row.get("order") != order.pk for row in rows)
    assert client.get("/api/v1/notifications/unread-count/").json()["unread"] == 0


def test_a_link_to_an_order_that_moved_away_says_so(client, reassigned):
    member, order = reassigned
    client.force_login(member)
    response = client.get(f"/orders/{order.pk}/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "已不在您的办理范围内" in page and order.number in page and "/orders/" in page
    # someone who never had anything to do with the order learns nothing about it
    stranger = UserFactory(role="street", unit=unit("110106001"))
    client.force_login(stranger)
    other = client.get(f"/orders/{order.pk}/").content.decode()
    assert order.number not in other
