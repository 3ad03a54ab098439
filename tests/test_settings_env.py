"""Strict parsing of the environment, and one clear line when it is wrong."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hotline.config.env import ConfigError, check_broker_url, env_bool, env_int, parse_database_url

ROOT = Path(__file__).resolve().parent.parent


def test_it_parses_a_postgres_url():
    db = parse_database_url("postgres://hot:p%40ss@db.example:5433/hotline?sslmode=require")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "hot",
        "p@ss",
        "db.example",
        "5433",
        "hotline",
    )
    assert db["OPTIONS"] == {"sslmode": "require"}


def test_it_parses_a_sqlite_url():
    assert parse_database_url("sqlite:////tmp/x.sqlite3") == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": "/tmp/x.sqlite3",
    }


@pytest.mark.parametrize(
    "url",
    [
        "mysql://u@h/db",
        "postgres://user@host:port/db",
        "postgres://user@host:5432/",
        "nonsense",
        "sqlite://",
        "postgres:///",
    ],
)
def test_it_refuses_malformed_database_urls(url):
    with pytest.raises(ConfigError):
        parse_database_url(url)


@pytest.mark.parametrize("url", ["http://x", "redis://:6379/0", "redis://h:abc/0"])
def test_it_refuses_malformed_broker_urls(url):
    with pytest.raises(ConfigError):
        check_broker_url(url)


def test_booleans_are_strict(monkeypatch):
    monkeypatch.setenv("X_FLAG", "yes")
    assert env_bool("X_FLAG") is True
    monkeypatch.setenv("X_FLAG", "off")
    assert env_bool("X_FLAG", True) is False
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ConfigError):
        env_bool("X_FLAG")


def test_integers_are_strict(monkeypatch):
    monkeypatch.setenv("X_NUM", "12x")
    with pytest.raises(ConfigError):
        env_int("X_NUM", 1)
    monkeypatch.setenv("X_NUM", "0")
    with pytest.raises(ConfigError):
        env_int("X_NUM", 1, minimum=1)


def _manage(*args, **env):
    full_env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [("DATABASE_URL", "postgres://user@host:notaport/db"), ("DEBUG", "perhaps"), ("CELERY_BROKER_URL", "http://x")],
)
def test_a_bad_environment_fails_at_start_up_with_one_line(name, value):
    result = _manage("check", **{name: value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Configuration error:") and name in lines[0]
    assert "Traceback" not in result.stderr


def test_production_settings_pass_the_deploy_check():
    # The same variables docker-compose.yml gives the web container.
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="x" * 20 + "production-secret-key-for-the-deploy-check-0123456789",
        ALLOWED_HOSTS="hotline.example.gov.cn",
        SECURE_SSL_REDIRECT="1",
        SESSION_COOKIE_SECURE="1",
        CSRF_COOKIE_SECURE="1",
        SECURE_HSTS_SECONDS="31536000",
        SECURE_HSTS_PRELOAD="1",
        BEHIND_TLS_PROXY="1",
    )
    assert result.returncode == 0, result.stdout + result.stderr
