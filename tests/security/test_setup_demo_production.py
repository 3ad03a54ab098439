"""setup_demo refuses under the production environment docker-compose.yml gives the app (it would
otherwise create `city` with the public password, authenticator secret and Open311 key)."""

import os
import subprocess
import sys

from tests.test_docker_compose import COMPOSE, ROOT, _expand


def _compose_env(tmp_path) -> dict[str, str]:
    env = {name: _expand(str(value)) for name, value in COMPOSE["services"]["web"]["environment"].items()}
    # sample values where compose takes them from the operator's .env, and writable paths here;
    # everything else (DEBUG=0, TLS settings, the PostgreSQL and Redis URLs) exactly as compose sets it
    env.update(
        SECRET_KEY="s" * 64,
        TRUSTED_PROXIES="10.0.0.1",
        ALLOWED_HOSTS="localhost,hotline.example.cn",
        CSRF_TRUSTED_ORIGINS="https://hotline.example.cn",
        HOTLINE_VAR_DIR=str(tmp_path / "var"),
        MEDIA_ROOT=str(tmp_path / "media"),
    )
    return {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **env}


def test_setup_demo_refuses_under_the_compose_production_environment(tmp_path):
    env = _compose_env(tmp_path)
    assert env["DEBUG"] == "0" and env["DATABASE_URL"].startswith("postgres://")
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "setup_demo"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "DEBUG" in result.stderr and "演示数据" in result.stderr
    # it stopped before touching the database: no attempt to reach the compose host "postgres"
    assert "could not translate host name" not in result.stderr and "OperationalError" not in result.stderr
