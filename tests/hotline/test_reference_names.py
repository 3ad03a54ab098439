"""Categories, urgency tiers and notification kinds are translatable reference data: an English name
per seeded item, shown when the UI is English; never an internal code."""

import pytest
from django.utils import translation

from hotline.models import Category
from tests.callbacks.conftest import make_order
from tests.factories import PASSWORD
from workorders.models import NOTIFICATION_KINDS, Notification, UrgencyTier, WorkOrder

pytestmark = pytest.mark.django_db


def english(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    client.cookies["django_language"] = "en"
    return client


def test_every_seeded_category_and_tier_has_an_english_name():
    seeded = Category.objects.exclude(code__startswith="T")  # the migration's tree, not test rows
    assert seeded.count() >= 170
    assert not seeded.filter(name_en="").exists()
    assert all(name.isascii() for name in seeded.values_list("name_en", flat=True))
    assert not UrgencyTier.objects.filter(name_en="").exists()


def test_names_follow_the_language():
    pipe = Category.objects.get(name="水管爆裂")
    tier = UrgencyTier.objects.get(code="T2H")
    with translation.override("en"):
        assert (str(pipe), pipe.display_path, str(tier)) == (
            "Burst water pipe",
            "Public utilities→Water supply→Burst water pipe",
            "Urgent (2-hour response)",
        )
    with translation.override("zh-hans"):
        assert (str(pipe), pipe.display_path, str(tier)) == ("水管爆裂", "公共服务→供水→水管爆裂", "紧急（2小时响应）")


def test_a_category_without_an_english_name_falls_back_to_chinese():
    c = Category.objects.create(code="T-NOEN", name="新分类", level=3)
    with translation.override("en"):
        assert c.display_name == "新分类"


def test_the_order_page_and_inbox_in_english_show_english_reference_data(client, agent, xiluoyuan_handler):
    order = make_order(agent)
    WorkOrder.objects.filter(pk=order.pk).update(
        category=Category.objects.get(name="水管爆裂"), tier=UrgencyTier.objects.get(code="T2H")
    )
    c = english(client, xiluoyuan_handler)
    detail = c.get(f"/orders/{order.pk}/").content.decode()
    assert "Public utilities→Water supply→Burst water pipe" in detail and "Urgent (2-hour response)" in detail
    assert "水管爆裂" not in detail and "紧急（2小时响应）" not in detail
    inbox = c.get("/orders/").content.decode()
    assert "Burst water pipe" in inbox and "水管爆裂" not in inbox


def test_notification_kinds_are_labels_not_codes(client, xiluoyuan_handler):
    for kind in ("new_order", "resolution_overdue", "something_new"):
        Notification.objects.create(user=xiluoyuan_handler, kind=kind, title="t")
    html = english(client, xiluoyuan_handler).get("/notifications/").content.decode()
    assert "New order" in html and "Resolution overdue" in html and "Notification" in html
    for code in ("new_order", "resolution_overdue", "something_new"):
        assert f">{code}<" not in html
    with translation.override("en"):
        assert all(str(label).isascii() for label in NOTIFICATION_KINDS.values())
