"""Strict parsing of the environment.

A value that cannot be understood raises ConfigError at start-up with one line that names the
variable, instead of a traceback deep inside the first request that happens to need it.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qs, unquote, urlsplit


class ConfigError(Exception):
    """The environment holds a value the application cannot use."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}={value} must be at least {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def parse_database_url(url: str, *, name: str = "DATABASE_URL") -> dict:
    """Turn `postgres://user:pass@host:5432/db?sslmode=require` or `sqlite:///path` into a
    Django DATABASES entry. Anything else is refused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"{name} is malformed: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        # sqlite:////abs/path.sqlite3 → /abs/path.sqlite3; sqlite:///relative.sqlite3 → relative
        path = unquote(url.split("://", 1)[1])
        if not path.startswith("/") or path.strip("/") == "":
            raise ConfigError(f"{name} must look like sqlite:////absolute/path.sqlite3")
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path[1:]}
    if scheme in {"postgres", "postgresql", "pgsql"}:
        db_name = unquote(parts.path.lstrip("/"))
        if not parts.hostname and not parts.query:
            raise ConfigError(f"{name} has no host: postgres://user@host:5432/dbname")
        if not db_name or "/" in db_name:
            raise ConfigError(f"{name} has no database name: postgres://user@host:5432/dbname")
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": db_name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": unquote(parts.hostname or ""),
            "PORT": str(port or ""),
            "OPTIONS": options,
        }
    raise ConfigError(f"{name} scheme {scheme or '(none)'!r} is not supported (use postgres:// or sqlite:///)")


def check_broker_url(url: str, *, name: str = "CELERY_BROKER_URL") -> str:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a non-numeric port
    except ValueError as exc:
        raise ConfigError(f"{name} is malformed: {exc}") from None
    if parts.scheme not in {"redis", "rediss", "amqp", "pyamqp", "filesystem"}:
        raise ConfigError(f"{name} scheme {parts.scheme or '(none)'!r} is not supported (use redis://host:6379/0)")
    if parts.scheme.startswith("redis") and not parts.hostname:
        raise ConfigError(f"{name} has no host: redis://host:6379/0")
    return url
