import pytest

from hotline.demo import setup_demo
from hotline.demo.accounts import DEMO_USERS
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser]

HEADINGS = {
    "agent": "话务工作台",
    "xiluoyuan": "西罗园街道 · 接诉即办工作台",
    "youanmen": "右安门街道 · 接诉即办工作台",
    "fengtai-water": "丰台区水务局 · 部门工作台",
    "fengtai": "丰台区 · 区级监督",
    "city": "市级指挥中心",
}


@pytest.fixture
def demo(reference_data, settings):
    setup_demo(not_production=True)
    return settings.DEMO_PASSWORD


@pytest.mark.parametrize("username", list(HEADINGS))
def test_each_role_logs_in_and_sees_its_home_page_in_chinese(page, demo, username):
    login(page, username, demo)
    assert page.locator("h1").inner_text() == HEADINGS[username]
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    role = next(d for d in DEMO_USERS if d.username == username)
    assert role.last_name in page.get_by_test_id("whoami").inner_text()


def test_the_language_switch_turns_the_page_english_and_back(page, demo):
    login(page, "fengtai", demo)
    page.get_by_test_id("lang-en").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "District supervision" in page.locator("h1").inner_text()
    page.get_by_test_id("lang-zh-hans").click()
    page.wait_for_load_state()
    assert "区级监督" in page.locator("h1").inner_text()


def test_a_street_handler_reveals_a_masked_number_and_it_is_logged(page, demo):
    from hotline.models import PersonalDataAccess, User

    login(page, "xiluoyuan", demo)
    page.goto("/calls/")
    first_phone = page.locator("[data-phone-for]").first
    masked = first_phone.inner_text()
    assert "****" in masked
    page.locator("[data-reveal-url]").first.click()
    page.wait_for_function("el => !el.textContent.includes('*')", arg=first_phone.element_handle())
    assert "*" not in first_phone.inner_text()
    assert PersonalDataAccess.objects.filter(user=User.objects.get(username="xiluoyuan")).count() == 1


def test_a_wrong_password_shows_an_error_and_stays_on_the_login_page(page, demo):
    page.goto("/login/")
    page.fill("#id_username", "agent")
    page.fill("#id_password", "not-the-password")
    page.keyboard.press("Enter")
    page.wait_for_selector(".form-error")
    assert "/login/" in page.url
