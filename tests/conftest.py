import os
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.factories import UserFactory, unit

ROOT = Path(__file__).resolve().parent.parent


# --- a fixed clock: HOTLINE_TEST_CLOCK=2026-11-30T23:30:00+08:00 make test ------------------------
# Deadlines, "today" and report periods are Beijing days and months; a test that mixes up UTC and
# Beijing passes by day and fails every evening. This runs the whole session from the given moment
# (the clock keeps ticking), so CI tries the evening and the month boundary on every push.
_clock_travel = None
_clock_moment = None


def _test_clock() -> datetime | None:
    value = os.environ.get("HOTLINE_TEST_CLOCK")
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise pytest.UsageError(f"HOTLINE_TEST_CLOCK={value!r}: expected an ISO datetime with offset")
    return moment


def pytest_configure(config):
    # Started here, before pytest-django creates the test database, so that session fixtures and
    # reference data are made at the travelled moment too.
    global _clock_travel, _clock_moment
    _clock_moment = _test_clock()
    if _clock_moment is not None:
        import time_machine

        _clock_travel = time_machine.travel(_clock_moment, tick=True)
        _clock_travel.start()


def pytest_unconfigure(config):
    if _clock_travel is not None:
        _clock_travel.stop()


def pytest_report_header(config):
    if _clock_travel is not None:
        return f"clock: HOTLINE_TEST_CLOCK={os.environ['HOTLINE_TEST_CLOCK']}"


@pytest.fixture(autouse=True)
def _clock_back_to_the_moment():
    # Each test (with its fixtures) starts at the moment again: a slow run that began at 23:30
    # would otherwise cross midnight half-way, and its last tests would try another day.
    if _clock_moment is None:
        yield
        return
    import time_machine

    with time_machine.travel(_clock_moment, tick=True):
        yield


def pytest_collection_modifyitems(config, items):
    # A fake clock moves only this process: a browser's clock, a celery worker and a live process in
    # a subprocess keep the real time, so the tests that drive them cannot run under it.
    if _clock_travel is None:
        return
    skip = pytest.mark.skip(reason="HOTLINE_TEST_CLOCK: drives a browser or worker process on the real clock")
    for item in items:
        if "browser" in item.keywords or "live_worker" in getattr(item, "fixturenames", ()):
            item.add_marker(skip)


def ensure_reference_data() -> None:
    """The real Beijing divisions and departments plus the center unit. Transactional tests flush
    the database when they end (pytest-django runs them after the others), so those that need
    the data call this again."""
    from districts.models import CENTER_UNIT_CODE, Division, Unit

    if not Division.objects.filter(level=Division.Level.COMMUNITY).exists():
        with open(os.devnull, "w") as devnull:
            call_command("load_divisions", verbosity=0, stdout=devnull)
    Unit.objects.get_or_create(code=CENTER_UNIT_CODE, defaults={"name": "北京市民热线服务中心", "kind": "center"})
    from workorders.lifecycle.tiers import ensure_default_tiers

    ensure_default_tiers()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        ensure_reference_data()


@pytest.fixture
def reference_data(transactional_db):
    ensure_reference_data()


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    """API/Open311 rate counters live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- the three kinds of actor, per unit -------------------------------------------------------
@pytest.fixture
def agent(db):
    return UserFactory(role="agent", unit=unit("11-center"))


@pytest.fixture
def city_admin(db):
    return UserFactory(role="city", unit=unit("11-center"), is_staff=True)


@pytest.fixture
def xiluoyuan_handler(db):
    return UserFactory(role="street", unit=unit("110106003"))  # 丰台区西罗园街道


@pytest.fixture
def youanmen_handler(db):
    return UserFactory(role="street", unit=unit("110106001"))  # 丰台区右安门街道


@pytest.fixture
def fengtai_manager(db):
    return UserFactory(role="district", unit=unit("110106"))


@pytest.fixture
def haidian_manager(db):
    return UserFactory(role="district", unit=unit("110108"))


@pytest.fixture
def water_dept_handler(db):
    return UserFactory(role="department", unit=unit("110106-water"))


# --- a real Celery worker -------------------------------------------------------------------------
def _database_url_of_test_db() -> str:
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(s['NAME']).resolve()}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"


class LiveWorker:
    def __init__(self, queue: str, proc: subprocess.Popen, log: Path):
        self.queue, self.proc, self.log = queue, proc, log


@pytest.fixture
def live_worker(reference_data, settings, tmp_path):
    """A real `celery worker` process on the configured broker (Redis in CI's PostgreSQL run, the
    embedded filesystem transport otherwise), consuming a queue of its own and writing to the test
    database."""
    from hotline.config.celery import app

    queue = f"test-{uuid.uuid4().hex[:10]}"
    env = dict(os.environ)
    env.update(DATABASE_URL=_database_url_of_test_db(), CELERY_QUEUE=queue, PYTHONUNBUFFERED="1")
    if os.environ.get("HOTLINE_VAR_DIR"):
        env["HOTLINE_VAR_DIR"] = os.environ["HOTLINE_VAR_DIR"]
    log = tmp_path / "worker.log"
    celery = str(Path(sys.executable).parent / "celery")
    proc = subprocess.Popen(
        [
            celery,
            "-A",
            "hotline",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            f"{queue}@%h",
            "--queues",
            f"{queue},{queue}.notify",  # the default queue and the delivery queue (its own in production)
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    old_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield LiveWorker(queue, proc, log)
    finally:
        app.conf.task_default_queue = old_queue
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_for(predicate, *, timeout: float = 30, interval: float = 0.2, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError("condition not met in time" + (f"; worker log:\n{log.read_text()}" if log else ""))


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # Tests run from a fresh clone without collectstatic: no manifest to look names up in.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _default_language_afterwards():
    # A request in English leaves English active in this thread (LocaleMiddleware does not reset
    # it): later tests that expect the default language must not depend on the order they run in.
    yield
    from django.conf import settings as django_settings
    from django.utils import translation

    translation.activate(django_settings.LANGUAGE_CODE)
