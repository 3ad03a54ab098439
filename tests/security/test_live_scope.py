"""The live channel tells a section member only about their section's orders (as their lists show
only those), and lets only the site's own pages read the stream with the session cookie."""

import pytest
from django.test import Client

from districts.models import Section
from hotline import access
from hotline.live import signals
from tests.factories import UserFactory, unit

pytestmark = pytest.mark.django_db

XILUOYUAN = "110106003"


@pytest.fixture
def cgb(db):
    return Section.objects.create(unit=unit(XILUOYUAN), name="城管办")


@pytest.fixture
def pab(db):
    return Section.objects.create(unit=unit(XILUOYUAN), name="平安办")


def _hears(user, **published) -> bool:
    return bool(set(access.live_topics(user)) & signals.topics_for(**published))


def test_a_section_member_does_not_hear_the_whole_units_changes(cgb):
    member = UserFactory(role="street", unit=unit(XILUOYUAN), section=cgb)
    # an order of the unit changed (the center's inbox, another section's order)
    assert not _hears(member, units=[unit(XILUOYUAN)])


def test_a_section_member_hears_their_sections_changes_and_their_own(cgb, pab):
    member = UserFactory(role="street", unit=unit(XILUOYUAN), section=cgb)
    assert _hears(member, sections=[cgb])
    assert _hears(member, users=[member])
    assert not _hears(member, sections=[pab])


def test_the_units_center_still_hears_every_change_of_the_unit(xiluoyuan_handler, cgb):
    assert _hears(xiluoyuan_handler, units=[unit(XILUOYUAN)])
    assert not _hears(xiluoyuan_handler, sections=[cgb])  # publishers name the unit too


@pytest.fixture
def live_beside(settings):
    # `make run`: pages on 8000, the live process on 8001
    settings.LIVE_PORT = 8001
    settings.SITE_PORT = 8000
    settings.CSRF_TRUSTED_ORIGINS = []
    settings.ALLOWED_HOSTS = ["hotline.example"]


def _allowed_origin(origin: str) -> str | None:
    response = Client().get("/live/stream", HTTP_ORIGIN=origin, HTTP_HOST="hotline.example:8001")
    assert "Origin" in response["Vary"]
    return response.get("Access-Control-Allow-Origin")


def test_the_sites_own_pages_may_read_the_stream(live_beside):
    assert _allowed_origin("http://hotline.example:8000") == "http://hotline.example:8000"


@pytest.mark.parametrize(
    "origin",
    ["http://hotline.example:9999", "http://hotline.example:8001", "http://evil.example:8000", "null", "file://"],
)
def test_another_port_or_host_may_not(live_beside, origin):
    assert _allowed_origin(origin) is None


def test_a_trusted_origin_behind_a_proxy_may(live_beside, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://12345.example.gov.cn"]
    assert _allowed_origin("https://12345.example.gov.cn") == "https://12345.example.gov.cn"


def test_without_a_live_port_the_stream_is_same_origin_and_sends_no_cors(live_beside, settings):
    settings.LIVE_PORT = 0
    assert _allowed_origin("http://hotline.example:8000") is None
