"""No Docker engine runs here, so the production stack is checked by reading it."""

import re
from pathlib import Path

import yaml

from hotline.config.env import check_broker_url, parse_database_url

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SETTINGS_SOURCE = "".join(p.read_text() for p in (ROOT / "hotline" / "config" / "settings").glob("*.py"))


def _expand(value: str) -> str:
    """Substitute ${VAR:?msg} / ${VAR:-default} the way compose does, with sample values."""
    return re.sub(r"\$\{([A-Z_]+)(?::[?-][^}]*)?\}", lambda m: f"sample-{m.group(1).lower()}", value)


def test_it_has_the_production_services():
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(COMPOSE["services"])


def test_web_worker_and_beat_run_the_right_programs():
    services = COMPOSE["services"]
    assert services["web"]["command"][:2] == ["gunicorn", "hotline.config.wsgi:application"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "hotline", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "hotline", "beat"]
    from hotline.config.wsgi import application  # the module gunicorn loads exists

    assert callable(application)


def test_services_have_health_checks_and_the_database_a_volume():
    services = COMPOSE["services"]
    for name in ("postgres", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert any(v.startswith("pgdata:") for v in services["postgres"]["volumes"])
    assert "pgdata" in COMPOSE["volumes"]


def test_app_services_wait_for_healthy_postgres_and_redis():
    for name in ("web", "worker", "beat", "migrate"):
        deps = COMPOSE["services"][name]["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy"
        assert deps["redis"]["condition"] == "service_healthy"


def test_every_variable_the_stack_sets_is_one_the_settings_read():
    env = COMPOSE["services"]["web"]["environment"]
    for name in env:
        assert f'"{name}"' in SETTINGS_SOURCE, f"{name} is set in docker-compose.yml but never read by settings"


def test_the_database_and_broker_urls_parse_with_the_settings_parser():
    env = COMPOSE["services"]["web"]["environment"]
    db = parse_database_url(_expand(env["DATABASE_URL"]))
    assert db["ENGINE"] == "django.db.backends.postgresql" and db["HOST"] == "postgres"
    pg = COMPOSE["services"]["postgres"]["environment"]
    assert db["NAME"] == pg["POSTGRES_DB"] and db["USER"] == pg["POSTGRES_USER"]
    assert check_broker_url(env["CELERY_BROKER_URL"]).startswith("redis://redis:6379")
