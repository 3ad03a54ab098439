"""Django and the product's own settings, read from the environment; Celery's are in `worker`."""

import ipaddress
import os
from pathlib import Path

from django.utils.crypto import get_random_string

from hotline.config.env import ConfigError, env_bool, env_int, env_list, env_str, parse_database_url

BASE_DIR = Path(__file__).resolve().parents[3]
VAR_DIR = Path(env_str("HOTLINE_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        if len(key) < 50:
            raise ConfigError("SECRET_KEY must be at least 50 characters long")
        return key
    # Embedded default: one random key per checkout, kept under var/ so sessions survive restarts.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(get_random_string(64, "abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)"))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "hotline.apps.HotlineAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "hotline.apps.HotlineConfig",
    "hotline.live",
    "districts",
    "workorders",
    "assessment",
    "assessment.forecasts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "hotline.web.edge.ContentSecurityPolicyMiddleware",  # every HTML page, error pages included
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # a POST-only page URL opened by GET: the application's 405 page with a link to where it is done
    "hotline.web.errors.MethodNotAllowedPageMiddleware",
    # NUL bytes, lone surrogates, impossible time-zone offsets: a clear 400 before any view
    "hotline.web.edge.EdgeValidationMiddleware",
    # city administrators with an authenticator pass it before any page (hotline.accounts.twofactor)
    "hotline.accounts.twofactor.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hotline.config.urls"
WSGI_APPLICATION = "hotline.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "hotline.web.navigation.navigation",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    _db = parse_database_url(DATABASE_URL)
else:
    _db = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(VAR_DIR / "hotline.sqlite3")}
if _db["ENGINE"].endswith("sqlite3"):
    # The web server, the worker and beat share one file: wait for locks instead of failing,
    # take the write lock at BEGIN so two writers never deadlock on an upgrade, and use WAL so
    # readers never block the writer.
    _db["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so that a real Celery worker started by the integration tests sees the
    # same test database.
    # One file per test run, so two runs side by side never share it.
    _db["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
else:
    _db["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60, minimum=0)
    _db["CONN_HEALTH_CHECKS"] = True
_db["ATOMIC_REQUESTS"] = False
DATABASES = {"default": _db}
# A streaming replica for reports, dashboards, rankings and exports (hotline/config/db_router.py).
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    _replica = parse_database_url(DATABASE_REPLICA_URL, name="DATABASE_REPLICA_URL")
    if _replica["ENGINE"] != _db["ENGINE"]:
        raise ConfigError("DATABASE_REPLICA_URL must be the same kind of database as DATABASE_URL")
    _replica["CONN_MAX_AGE"] = _db.get("CONN_MAX_AGE", 0)
    _replica["CONN_HEALTH_CHECKS"] = True
    _replica["TEST"] = {"MIRROR": "default"}  # tests: the same database stands in for it
    DATABASES["replica"] = _replica
    DATABASE_ROUTERS = ["hotline.config.db_router.ReplicaRouter"]
    MIDDLEWARE.append("hotline.config.db_router.ReplicaReadsMiddleware")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "hotline.User"
AUTHENTICATION_BACKENDS = ["hotline.accounts.auth_backends.RoleBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Failed-login throttle (hotline.accounts.login): this many failures for one user name from one
# address within the window lock that pair until the window has passed (4× lock the address); a name
# attacked from many addresses is slowed down, never locked for everyone.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_FAILURE_WINDOW_MINUTES = env_int("LOGIN_FAILURE_WINDOW_MINUTES", 15, minimum=1)
# Proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated): the client's
# address for the login throttle, API throttles and the reveal log is then the right-most entry that
# is not one of them. Empty: REMOTE_ADDR, headers ignored.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ConfigError(f"TRUSTED_PROXIES: {_proxy!r} is not an IP address or network") from None
# The admin asks city administrators for an authenticator app's code once per session.
ADMIN_2FA_REQUIRED = env_bool("ADMIN_2FA_REQUIRED", True)

# --- Live updates (hotline/live) ----------------------------------------------------------------
# The live process's port when it runs beside the web server on the same host (`make run` sets
# it); empty when a proxy routes /live/ to it on the site's own origin.
LIVE_PORT = env_int("LIVE_PORT", 0, minimum=0)
# The web server's port (`make run`: PORT): with LIVE_PORT, the live process lets only pages of the
# same host on this port (or CSRF_TRUSTED_ORIGINS) read its stream with the session cookie.
SITE_PORT = env_int("PORT", 8000, minimum=1)
# Where change markers go; empty: CELERY_BROKER_URL when that is Redis, else the database.
LIVE_REDIS_URL = env_str("LIVE_REDIS_URL", "")

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"  # never served directly: attachments go through an access-checked view
WHITENOISE_USE_FINDERS = DEBUG

# Outbound notifications: a global signed webhook (per-unit endpoints are set in the admin).
NOTIFY_WEBHOOK_URL = env_str("NOTIFY_WEBHOOK_URL", "")
NOTIFY_WEBHOOK_SECRET = env_str("NOTIFY_WEBHOOK_SECRET", "")
NOTIFY_EMAIL_ENABLED = env_bool("NOTIFY_EMAIL_ENABLED", True)
# Minutes after an order goes overdue before the sweep escalates it to the district manager.
ESCALATE_AFTER_MINUTES = env_int("ESCALATE_AFTER_MINUTES", 30, minimum=0)
# Surge warning (爆单, assessment/governance): this many calls of one category at one place within
# the window raise an alert.
SURGE_WINDOW_MINUTES = env_int("SURGE_WINDOW_MINUTES", 60, minimum=5)
SURGE_MIN_CALLS = env_int("SURGE_MIN_CALLS", 5, minimum=2)
# Forecasts (assessment/forecasts): weeks forecast from the current one, days of half-hourly calls;
# a category is "expected to rise" when the week's forecast is at least FORECAST_RISE_PERCENT of its
# recent weekly mean and FORECAST_RISE_MIN_ORDERS more orders (also what the backtest counts as a
# surge flagged a week ahead).
FORECAST_WEEKS = env_int("FORECAST_WEEKS", 9, minimum=2)
FORECAST_CALL_DAYS = env_int("FORECAST_CALL_DAYS", 14, minimum=1)
FORECAST_RISE_PERCENT = env_int("FORECAST_RISE_PERCENT", 130, minimum=101)
FORECAST_RISE_MIN_ORDERS = env_int("FORECAST_RISE_MIN_ORDERS", 2, minimum=1)
# Staffing (Erlang C): answer STAFFING_ANSWER_PERCENT of calls within STAFFING_ANSWER_SECONDS (GB/T
# 33358: 15 s); the handling time is measured (call received → order dispatched, last 28 days) and
# STAFFING_HANDLE_SECONDS is used until at least 200 calls were measured.
STAFFING_ANSWER_SECONDS = env_int("STAFFING_ANSWER_SECONDS", 15, minimum=1)
STAFFING_ANSWER_PERCENT = env_int("STAFFING_ANSWER_PERCENT", 95, minimum=1)
STAFFING_HANDLE_SECONDS = env_int("STAFFING_HANDLE_SECONDS", 240, minimum=10)
# Duplicate candidates (重复诉求, hotline/intake/duplicates.py): orders open or dispatched within the
# window, at the same place (coordinates: within the radius), with a similar description. The text
# similarity needed (percent) at each place level — same building/spot, same compound/road, same
# street only — and the extra needed for a neighbouring category; chosen on the benchmark's tune
# half (bench/bench_duplicates.py --tune).
DUPLICATE_WINDOW_DAYS = env_int("DUPLICATE_WINDOW_DAYS", 30, minimum=1)
DUPLICATE_RADIUS_METERS = env_int("DUPLICATE_RADIUS_METERS", 150, minimum=10)
DUPLICATE_TEXT_SAME_SPOT = env_int("DUPLICATE_TEXT_SAME_SPOT", 20, minimum=0) / 100
DUPLICATE_TEXT_SAME_COMPOUND = env_int("DUPLICATE_TEXT_SAME_COMPOUND", 30, minimum=0) / 100
DUPLICATE_TEXT_SAME_STREET = env_int("DUPLICATE_TEXT_SAME_STREET", 60, minimum=0) / 100
DUPLICATE_TEXT_NEAR_CATEGORY_EXTRA = env_int("DUPLICATE_TEXT_NEAR_CATEGORY_EXTRA", 10, minimum=0) / 100
ORDER_ATTACHMENT_MAX_BYTES = env_int("ORDER_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
# Lists count at most this many rows and say when they were cut off (hotline/pagination.py): a
# street's closed orders grow every year, the inbox must not.
LIST_COUNT_CAP = env_int("LIST_COUNT_CAP", 10_000, minimum=100)
# E-mail notifications: printed to the worker's log unless an SMTP server is configured.
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "12345@localhost")
# Kept in the database so /healthz can tell whether the worker is consuming.
WORKER_HEARTBEAT_STALE_SECONDS = env_int("WORKER_HEARTBEAT_STALE_SECONDS", 300, minimum=60)

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "hotline.accounts.api_auth.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "hotline.web.api.HotlineAutoSchema",
    "EXCEPTION_HANDLER": "hotline.web.api.exception_handler",
    # 429 + Retry-After over these rates (hotline.accounts.throttles)
    "DEFAULT_THROTTLE_CLASSES": [
        "hotline.accounts.throttles.UserThrottle",
        "hotline.accounts.throttles.AnonThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env_str("API_THROTTLE_USER", "6000/min"),
        "anon": env_str("API_THROTTLE_ANON", "120/min"),
        "open311": env_str("OPEN311_THROTTLE", "600/min"),
    },
}
for _name, _rate in (
    ("API_THROTTLE_USER", REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["user"]),
    ("API_THROTTLE_ANON", REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["anon"]),
    ("OPEN311_THROTTLE", REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["open311"]),
):
    _num, _, _period = _rate.partition("/")
    if not _num.isdigit() or not _period or _period[0] not in "smhd":
        raise ConfigError(f"{_name}={_rate!r} is not a rate like 600/min")
# Throttle counters: in Redis when CACHE_URL names one (shared by all web processes), else per process.
CACHE_URL = env_str("CACHE_URL", "")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
SPECTACULAR_SETTINGS = {
    "TITLE": "12345 接诉即办 API",
    "DESCRIPTION": "Work-order system of the 12345 citizen hotline.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI from the vendored sidecar package: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets that share a field name get their own schema names.
    "ENUM_NAME_OVERRIDES": {
        "OrderResultEnum": "workorders.models.Result",
        "CallbackAttemptResultEnum": "workorders.models.CallbackAttempt.Result",
        "CallbackChannelEnum": "workorders.models.Callback.Channel",
        "ExclusionStateEnum": "workorders.models.ExclusionRequest.State",
        "OrderStateEnum": "workorders.models.OrderState",
        "CallChannelEnum": "hotline.models.Call.Channel",
    },
}

# --- Security ---------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600, minimum=300)
# The agent's workspace slides the session while the agent works (hotline/intake/sessions.py) and
# warns this many seconds before it would end.
SESSION_EXPIRY_WARNING_SECONDS = env_int("SESSION_EXPIRY_WARNING_SECONDS", 300, minimum=30)
# A refused CSRF check (a form left open across a log-out): the application's page, not Django's.
CSRF_FAILURE_VIEW = "hotline.web.errors.csrf_failure"
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# Callback (回访): this many failed attempts, spread over at least this many calendar days, end a
# callback as "cannot reach"; self-evaluation links (as if sent by SMS) expire after this many hours.
CALLBACK_MAX_FAILED_ATTEMPTS = env_int("CALLBACK_MAX_FAILED_ATTEMPTS", 3, minimum=1)
CALLBACK_UNREACHABLE_MIN_DAYS = env_int("CALLBACK_UNREACHABLE_MIN_DAYS", 2, minimum=1)
SELF_EVALUATION_LINK_HOURS = env_int("SELF_EVALUATION_LINK_HOURS", 72, minimum=1)
# 并单: how long after a merge the city center may undo it (the merged order goes back to its state).
MERGE_UNDO_HOURS = env_int("MERGE_UNDO_HOURS", 72, minimum=0)
# Text messages to callers (hotline/intake/sms.py): "console" writes them to the worker's log;
# "http" POSTs {"to", "text"} as JSON to SMS_GATEWAY_URL (Bearer SMS_GATEWAY_TOKEN).
SMS_BACKEND = env_str("SMS_BACKEND", "console")
if SMS_BACKEND not in ("console", "http"):
    raise ConfigError("SMS_BACKEND must be console or http")
SMS_GATEWAY_URL = env_str("SMS_GATEWAY_URL", "")
SMS_GATEWAY_TOKEN = env_str("SMS_GATEWAY_TOKEN", "")
SMS_GATEWAY_TIMEOUT = env_int("SMS_GATEWAY_TIMEOUT", 10, minimum=1)
SMS_RETRY_SECONDS = env_int("SMS_RETRY_SECONDS", 30, minimum=1)  # first retry; doubles up to 30 min
if SMS_BACKEND == "http" and not SMS_GATEWAY_URL.startswith(("http://", "https://")):
    raise ConfigError("SMS_GATEWAY_URL must be an http(s) URL when SMS_BACKEND=http")

# The hotline calls back within this many working days of an order's closing (or of its resolution
# limit running out while still open); the callback queue shows each order's due time.
CALLBACK_LIMIT_WORKDAYS = env_int("CALLBACK_LIMIT_WORKDAYS", 2, minimum=1)

# The demo accounts' shared password (make run prints it).
DEMO_PASSWORD = env_str("DEMO_PASSWORD", "hotline12345")
