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
    assert {"postgres", "redis", "web", "worker", "notifier", "beat"} <= set(COMPOSE["services"])


def test_web_worker_and_beat_run_the_right_programs():
    services = COMPOSE["services"]
    assert services["web"]["command"][:2] == ["gunicorn", "hotline.config.wsgi:application"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "hotline", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "hotline", "beat"]
    from hotline.config.wsgi import application  # the module gunicorn loads exists

    assert callable(application)


def test_services_have_health_checks_and_the_database_a_volume():
    services = COMPOSE["services"]
    for name in ("postgres", "redis", "web", "worker", "notifier"):
        assert "healthcheck" in services[name], name
    # liveness: the web tier is not restarted for the broker's or the database's sake
    assert "/healthz/live" in " ".join(services["web"]["healthcheck"]["test"])
    assert any(v.startswith("pgdata:") for v in services["postgres"]["volumes"])
    assert "pgdata" in COMPOSE["volumes"]


def test_app_services_wait_for_healthy_postgres_and_redis():
    for name in ("web", "worker", "notifier", "beat", "migrate"):
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


def test_outbound_delivery_has_its_own_queue_and_worker():
    from hotline.config.celery import app, route_task

    default = app.conf.task_default_queue
    delivery_queue = route_task("workorders.tasks.deliver_outbound", (), {}, {})["queue"]
    assert delivery_queue == f"{default}.notify"
    assert route_task("workorders.tasks.deadline_sweep", (), {}, {}) is None  # the default queue
    worker, notifier = COMPOSE["services"]["worker"]["command"], COMPOSE["services"]["notifier"]["command"]
    assert worker[worker.index("--queues") + 1] == "celery"
    assert notifier[notifier.index("--queues") + 1] == "celery.notify"
    assert notifier[notifier.index("--pool") + 1] == "threads"


def test_the_image_installs_runtime_requirements_only():
    installs = [line for line in (ROOT / "Dockerfile").read_text().splitlines() if "pip install" in line]
    assert installs and all("-r requirements.txt" in line and "dev" not in line for line in installs)
    runtime = (ROOT / "requirements.txt").read_text().lower()
    for tool in ("pytest", "playwright", "ruff", "factory-boy"):
        assert tool not in runtime, tool
    # Celery's Redis transport needs these at run time
    assert "redis==" in runtime and ("packaging==" in runtime or "celery[redis]" in runtime)
