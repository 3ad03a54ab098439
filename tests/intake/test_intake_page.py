import pytest
from django.urls import reverse

from hotline.models import Call
from tests.factories import PASSWORD
from tests.intake.conftest import intake_data
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("agent", 200),
        ("city_admin", 200),
        ("xiluoyuan_handler", 403),
        ("fengtai_manager", 403),
        ("water_dept_handler", 403),
    ],
)
def test_the_workspace_is_for_call_takers(client, request, role, status):
    login(client, request.getfixturevalue(role))
    assert client.get(reverse("intake")).status_code == status
    if status == 403:
        assert client.post(reverse("intake"), intake_data()).status_code == 403
        assert not Call.objects.exists()


def test_the_form_starts_on_the_phone_field_and_offers_leaf_categories(client, agent):
    login(client, agent)
    html = client.get(reverse("intake")).content.decode()
    assert 'id="id_phone"' in html and "autofocus" in html.split('id="id_phone"')[1].split(">")[0]
    assert 'value="020102"' in html and "供水" in html


def test_saving_dispatches_and_shows_the_order_number_and_unit(client, agent):
    login(client, agent)
    resp = client.post(reverse("intake"), intake_data())
    assert resp.status_code == 302
    order = WorkOrder.objects.get()
    page = client.get(resp["Location"]).content.decode()
    assert order.number in page and "西罗园街道" in page


def test_bad_input_keeps_the_typed_text_and_saves_nothing(client, agent):
    login(client, agent)
    resp = client.post(
        reverse("intake"),
        intake_data(phone="12", description="楼道电梯停运两天，家中有老人", address="丰台区洋桥北里12号楼3单元"),
    )
    assert resp.status_code == 400
    html = resp.content.decode()
    assert "号码格式不正确" in html
    assert 'value="12"' in html and "楼道电梯停运两天，家中有老人" in html and "丰台区洋桥北里12号楼3单元" in html
    assert not Call.objects.exists() and not WorkOrder.objects.exists()


def test_a_script_in_the_description_is_stored_as_text_and_shown_escaped(client, agent):
    # given
    login(client, agent)
    script = "<script>alert('x')</script>电梯坏了"
    resp = client.post(reverse("intake"), intake_data(description=script))
    assert resp.status_code == 302
    assert Call.objects.get().description == script
    # when: the call list and the form redisplay show it
    listing = client.get(reverse("call-list")).content.decode()
    bad = client.post(reverse("intake"), intake_data(description=script, phone="1")).content.decode()
    # then
    for html in (listing, bad):
        assert "<script>alert('x')</script>" not in html
        assert "&lt;script&gt;" in html


def test_the_home_pages_carry_the_live_counter(client, agent, city_admin):
    for user in (agent, city_admin):
        client.force_login(user)
        html = client.get(reverse("home")).content.decode()
        assert "data-today-url" in html and "intake-counter.js" in html


def test_linking_a_repeat_call_from_the_page_shows_the_order_it_joined(client, agent):
    # given
    login(client, agent)
    client.post(reverse("intake"), intake_data())
    order = WorkOrder.objects.get()
    # when
    resp = client.post(
        reverse("intake"),
        intake_data(phone="13900001111", action="duplicate", duplicate_of=order.number, description="电梯还是没修好"),
    )
    # then
    assert resp.status_code == 302
    page = client.get(resp["Location"]).content.decode()
    assert "已关联为重复诉求" in page and order.number in page
    order.refresh_from_db()
    assert order.duplicate_count == 1 and WorkOrder.objects.count() == 1


def test_a_consultation_answered_from_the_page_shows_the_answer(client, agent):
    from hotline.models import KnowledgeArticle

    login(client, agent)
    article = KnowledgeArticle.objects.create(title="供暖时间", body="11月15日开始供暖。<b>以通知为准</b>")
    resp = client.post(
        reverse("intake"),
        intake_data(request_type="consultation", category="020201", address="", action="answer", article=article.pk),
    )
    page = client.get(resp["Location"]).content.decode()
    assert "已直接答复" in page and "11月15日开始供暖。&lt;b&gt;以通知为准&lt;/b&gt;" in page
    assert not WorkOrder.objects.exists()


def test_the_workspace_renders_in_a_few_queries_however_many_categories(client, agent, django_assert_max_num_queries):
    from hotline import refcache

    login(client, agent)
    refcache.clear_all()
    client.get(reverse("intake"))  # fills the per-process caches
    with django_assert_max_num_queries(12):
        html = client.get(reverse("intake")).content.decode()
    assert "城乡建设 › 物业管理" in html  # the groups still carry their path
