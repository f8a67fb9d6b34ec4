"""wangge settings. Every knob is a WANGGE_* environment variable; see docs/deployment.md."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.utils.translation import gettext_lazy as _

from wangge.env import (
    ConfigError,
    csp_source,
    data_dir,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
    secret_key,
)

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = data_dir()

DEMO = env_bool("WANGGE_DEMO", False)
# Off in the demo too: an unknown URL shows our 404 page, not Django's technical page (settings
# and traceback machinery). `wangge demo` serves collected static files through WhiteNoise.
DEBUG = env_bool("WANGGE_DEBUG", False)
SECRET_KEY = secret_key(DATA_DIR)
ALLOWED_HOSTS = env_list("WANGGE_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("WANGGE_CSRF_TRUSTED_ORIGINS", [])


def _database(
    url: str,
    *,
    pool: tuple[int, int] | None = None,
    statement_timeout_ms: int = 0,
) -> dict[str, Any]:
    """One DATABASES entry from a URL. On PostgreSQL, `pool` (min, max) turns on psycopg's
    connection pool (Django keeps no connection of its own then: CONN_MAX_AGE 0), and a
    `statement_timeout_ms` above 0 cancels any statement of the server's sessions that runs
    longer (the long jobs lift it for their own transactions)."""
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
    except Exception as exc:  # dj-database-url raises several types for bad URLs
        raise ConfigError(f"WANGGE_DATABASE_URL={url!r} cannot be parsed: {exc}") from None
    engine = config.get("ENGINE", "")
    if engine == "django.db.backends.sqlite3":
        # Our backend queues write transactions on a file lock (see wangge/core/db/sqlite3).
        config["ENGINE"] = "wangge.core.db.sqlite3"
        # Keep connections (one per server thread): opening one and running its PRAGMAs cost
        # more than a typical request.
        config["CONN_MAX_AGE"] = 600
        config["CONN_HEALTH_CHECKS"] = True
        # IMMEDIATE: a transaction takes the write lock when it starts, so read-then-write
        # sequences (the audit hash chain, the job claims) cannot interleave between processes.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
        }
    elif engine == "django.db.backends.postgresql":
        options = config.setdefault("OPTIONS", {})
        # No JIT compilation: it pays off for long analytic scans, not for a request's
        # queries, where it costs ~100 ms each time a plan's cost passes jit_above_cost (a
        # city's grid ranking: 180 ms with it, 118 ms without).
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
        if statement_timeout_ms > 0:
            # Sent as a startup parameter: every session starts with it, pooled or not.
            flags = f"{options.get('options', '')} -c statement_timeout={statement_timeout_ms}"
            options["options"] = flags.strip()
        if pool is not None:
            low, high = pool
            # A pooled connection goes back to the pool at the end of each request; Django
            # refuses persistent connections beside a pool.
            options["pool"] = {"min_size": low, "max_size": high, "timeout": 10}
            config["CONN_MAX_AGE"] = 0
    else:
        raise ConfigError(
            f"WANGGE_DATABASE_URL uses engine {engine!r}; wangge supports sqlite:// and postgres://"
        )
    return config


def _pool() -> tuple[int, int] | None:
    """WANGGE_DB_POOL_MAX > 0 turns the pool on (PostgreSQL only), WANGGE_DB_POOL_MIN connections
    kept open while idle."""
    high = env_int("WANGGE_DB_POOL_MAX", 0, minimum=0)
    low = env_int("WANGGE_DB_POOL_MIN", 2 if high else 0, minimum=0)
    if not high:
        return None
    if low > high:
        raise ConfigError(f"WANGGE_DB_POOL_MIN={low} is more than WANGGE_DB_POOL_MAX={high}")
    return (low, high)


DB_POOL = _pool()
DB_STATEMENT_TIMEOUT_MS = env_int("WANGGE_DB_STATEMENT_TIMEOUT_MS", 30_000, minimum=0)
DATABASES = {
    "default": _database(
        env_str("WANGGE_DATABASE_URL", f"sqlite:///{DATA_DIR / 'wangge.sqlite3'}"),
        pool=DB_POOL,
        statement_timeout_ms=DB_STATEMENT_TIMEOUT_MS,
    )
}
# A streaming replica of the primary (PostgreSQL): the dashboard's facts and figures are read
# from it (wangge/core/db/router.py), everything else and every write stays on the primary.
_replica_url = env_str("WANGGE_REPLICA_DATABASE_URL", "")
if _replica_url:
    DATABASES["replica"] = _database(
        _replica_url, pool=DB_POOL, statement_timeout_ms=DB_STATEMENT_TIMEOUT_MS
    )
    if DATABASES["replica"]["ENGINE"] != "django.db.backends.postgresql":
        raise ConfigError("WANGGE_REPLICA_DATABASE_URL must be a postgres:// URL (a replica)")
DASHBOARD_READ_DATABASE = "replica" if _replica_url else "default"
DATABASE_ROUTERS = ["wangge.core.db.router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "wangge.core",
    "wangge.regions",
    "wangge.teams",
    "wangge.ledger",
    "wangge.events",
    "wangge.campaigns",
    "wangge.linkage",
    "wangge.restructure",
    "wangge.dashboard",
    "wangge.demo",
]

MIDDLEWARE = [
    # First: it times (and counts for /metrics, and logs) every request, static files included.
    "wangge.core.middleware.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise, so that static files carry the security headers too.
    "wangge.core.middleware.SecurityHeadersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "wangge.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "wangge.core.middleware.RefuseUnusableRequestsMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "wangge.core.middleware.RequestContextMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "wangge.urls"
WSGI_APPLICATION = "wangge.wsgi.application"

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
                "wangge.core.context_processors.wangge",
                "wangge.events.context_processors.events",
            ],
        },
    }
]

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lockout after repeated failures (django-axes): by username and client address.
AXES_FAILURE_LIMIT = env_int("WANGGE_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_float("WANGGE_LOGIN_COOLOFF_HOURS", 0.25, minimum=0.01)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "core/locked_out.html"
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env_int("WANGGE_PROXY_COUNT", 0, minimum=0)

# Sessions and cookies. Behind HTTPS set WANGGE_SECURE_COOKIES=true.
SECURE_COOKIES = env_bool("WANGGE_SECURE_COOKIES", False)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("WANGGE_SESSION_HOURS", 8, minimum=1) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Security headers on every response: these four from Django, the Content-Security-Policy and
# Permissions-Policy (below, once the tile server is known) from SecurityHeadersMiddleware.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if SECURE_COOKIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

# text (the default) or json: one JSON object per line (wangge/core/logs.py).
LOG_FORMAT = env_str("WANGGE_LOG_FORMAT", "text")
if LOG_FORMAT not in {"text", "json"}:
    raise ConfigError(f"WANGGE_LOG_FORMAT={LOG_FORMAT!r}: use text or json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "wangge.core.logs.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            **({"formatter": "json"} if LOG_FORMAT == "json" else {}),
        }
    },
    "root": {"handlers": ["console"], "level": env_str("WANGGE_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# Operations: /healthz, /metrics, `wangge check` (wangge/core/health.py, metrics.py).
# /healthz fails when no worker was seen for this long, or the data directory's disk has less.
WORKER_HEARTBEAT_MAX_SECONDS = env_int("WANGGE_WORKER_HEARTBEAT_MAX_SECONDS", 300, minimum=30)
HEALTH_MIN_FREE_BYTES = env_int("WANGGE_HEALTH_MIN_FREE_MB", 1024, minimum=0) * 1024 * 1024
# /metrics: with a token, only `Authorization: Bearer <token>`; without, only this machine.
METRICS_TOKEN = env_str("WANGGE_METRICS_TOKEN", "")
if METRICS_TOKEN and len(METRICS_TOKEN) < 16:
    raise ConfigError("WANGGE_METRICS_TOKEN must be at least 16 characters")
# The request metrics of all of gunicorn's processes are added up from files here
# (prometheus_client's multiprocess mode; `wangge serve` empties it when it starts).
METRICS_DIR = DATA_DIR / "metrics"
METRICS_DIR.mkdir(exist_ok=True, mode=0o700)
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(METRICS_DIR))

# --- wangge ------------------------------------------------------------------------------------
# Intranet tile server, e.g. http://tiles.intranet/{z}/{x}/{y}.png; empty = draw grids only.
TILE_URL = env_str("WANGGE_TILE_URL", "")
# A raster tile file the district has (MBTiles or PMTiles), served by wangge itself; empty =
# $WANGGE_DATA_DIR/basemap.mbtiles or basemap.pmtiles when there is one (regions/basemap.py).
BASEMAP_FILE = env_str("WANGGE_BASEMAP_FILE", "")
# No inline script or style, no eval, nothing loaded or sent anywhere but this site (and the
# tile server): text that reaches a page as markup by mistake still cannot run. Leaflet and
# Swagger UI set styles through the CSSOM, which style-src does not restrict.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        " ".join(["img-src 'self' data: blob:", csp_source("WANGGE_TILE_URL", TILE_URL)]).strip(),
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)
# The phone report page takes the GPS position and photos from the camera; nothing else.
PERMISSIONS_POLICY = "camera=(self), geolocation=(self), microphone=(), payment=(), usb=()"
# Our responses (photos of residents above all) may not be embedded by other intranet sites.
CROSS_ORIGIN_RESOURCE_POLICY = "same-origin"
# Sibling grids may overlap by at most this many square metres before import refuses them.
OVERLAP_TOLERANCE_M2 = env_float("WANGGE_OVERLAP_TOLERANCE_M2", 1.0, minimum=0.0)
# Uncovered area inside a community above this is reported as a gap.
GAP_TOLERANCE_M2 = env_float("WANGGE_GAP_TOLERANCE_M2", 1.0, minimum=0.0)
# A grid may stick out of its community by at most this much.
OUTSIDE_TOLERANCE_M2 = env_float("WANGGE_OUTSIDE_TOLERANCE_M2", 1.0, minimum=0.0)
# Department grid codes are longer than unified ones and differ by department.
DEPARTMENT_CODE_MIN_LENGTH = env_int("WANGGE_DEPARTMENT_CODE_MIN_LENGTH", 6, minimum=1)
DEPARTMENT_CODE_MAX_LENGTH = env_int("WANGGE_DEPARTMENT_CODE_MAX_LENGTH", 32, minimum=1)
# A department grid straddles when no single unified grid holds at least this share of it.
STRADDLE_THRESHOLD = env_float("WANGGE_STRADDLE_THRESHOLD", 0.95, minimum=0.0)
API_PAGE_SIZE_MAX = 500
# Personal-data keys (outside the database). Default: $WANGGE_DATA_DIR/keys/personal-data.json.
KEY_FILE = env_str("WANGGE_KEY_FILE", "")
# aes (AES-256-GCM + HMAC-SHA256) or sm (SM4-GCM + HMAC-SM3); applies to newly made keys.
CRYPTO_PROFILE = env_str("WANGGE_CRYPTO_PROFILE", "aes")
if CRYPTO_PROFILE not in {"aes", "sm"}:
    raise ConfigError(f"WANGGE_CRYPTO_PROFILE={CRYPTO_PROFILE!r}: use aes or sm")
# The audit chain's key (outside the database, like the personal-data keys; made on first use)
# and the signed checkpoints of its head. Defaults: $WANGGE_DATA_DIR/keys/audit.json and
# $WANGGE_DATA_DIR/audit/checkpoints.jsonl. `wangge worker` writes a checkpoint this often.
AUDIT_KEY_FILE = env_str("WANGGE_AUDIT_KEY_FILE", "")
AUDIT_CHECKPOINT_FILE = env_str("WANGGE_AUDIT_CHECKPOINT_FILE", "")
AUDIT_CHECKPOINT_SECONDS = env_int("WANGGE_AUDIT_CHECKPOINT_SECONDS", 300, minimum=5)
# Tabular imports (CSV/XLSX).
IMPORT_MAX_BYTES = env_int("WANGGE_IMPORT_MAX_MB", 200, minimum=1) * 1024 * 1024
# Uploads stay in memory up to the import limit: a department's list or a ledger file holds
# personal data, and Django would otherwise spool anything over 2.5 MB to a plaintext temp file.
FILE_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_BYTES
# A workbook is a zip: what it may unpack to (checked on its directory before it is opened).
# Five times the upload limit holds a full-size workbook of real data, which packs 5–20×.
IMPORT_MAX_UNCOMPRESSED_BYTES = (
    env_int("WANGGE_IMPORT_MAX_UNCOMPRESSED_MB", 5 * IMPORT_MAX_BYTES // 1048576, minimum=1)
    * 1024
    * 1024
)
IMPORT_MAX_ROWS = env_int("WANGGE_IMPORT_MAX_ROWS", 1_000_000, minimum=1)
# Roles that may see special-group (特殊人群) tags.
LEDGER_SENSITIVE_ROLES = env_list("WANGGE_SENSITIVE_ROLES", ["district_admin", "community_officer"])
_ROLES = {
    "district_admin",
    "street_officer",
    "community_officer",
    "grid_leader",
    "grid_worker",
    "department_officer",
    "auditor",
}
if not set(LEDGER_SENSITIVE_ROLES) <= _ROLES:
    raise ConfigError(
        f"WANGGE_SENSITIVE_ROLES: unknown roles {set(LEDGER_SENSITIVE_ROLES) - _ROLES}"
    )
# Searches by a full ID number or phone, per user and hour (each is audited; they answer "is
# this number registered here?", so a script must not try numbers by the thousand).
LEDGER_EXACT_SEARCHES_PER_HOUR = env_int("WANGGE_EXACT_SEARCHES_PER_HOUR", 60, minimum=1)
# Teams: how many grids one person may serve at once, and the size a party branch needs.
TEAMS_MAX_GRIDS_PER_PERSON = env_int("WANGGE_TEAMS_MAX_GRIDS_PER_PERSON", 3, minimum=1)
TEAMS_BRANCH_MIN_MEMBERS = env_int("WANGGE_TEAMS_BRANCH_MIN_MEMBERS", 3, minimum=1)
# The public supervision phone printed on grid notice cards (滨州 regulation).
SUPERVISION_PHONE = env_str("WANGGE_SUPERVISION_PHONE", "12345")
# Events: office hours for working-time deadlines, duplicate suggestions, SMS, the scan.
EVENTS_OFFICE_HOURS = env_str("WANGGE_OFFICE_HOURS", "08:30-12:00,14:00-17:30")
try:
    from wangge.core.officehours import parse_office_hours as _parse_office_hours

    _parse_office_hours(EVENTS_OFFICE_HOURS)
except ValueError as _exc:
    raise ConfigError(f"WANGGE_OFFICE_HOURS={EVENTS_OFFICE_HOURS!r}: {_exc}") from None
EVENTS_DUPLICATE_METRES = env_float("WANGGE_EVENTS_DUPLICATE_METRES", 50.0, minimum=1.0)
EVENTS_DUPLICATE_DAYS = env_int("WANGGE_EVENTS_DUPLICATE_DAYS", 7, minimum=1)
EVENTS_PUBLIC_REPORTS_PER_HOUR = env_int("WANGGE_PUBLIC_REPORTS_PER_HOUR", 20, minimum=1)
EVENTS_SCAN_SECONDS = env_int("WANGGE_EVENTS_SCAN_SECONDS", 60, minimum=5)
CAMPAIGNS_HOLD_HOURS = env_int("WANGGE_CAMPAIGNS_HOLD_HOURS", 8, minimum=1)
CAMPAIGNS_SCAN_SECONDS = env_int("WANGGE_CAMPAIGNS_SCAN_SECONDS", 300, minimum=5)
# The dashboard's facts follow the events every this many seconds (the worker's cycle); the
# other modules' per-grid figures (residents, staffing, campaign progress) are counted again
# every DASHBOARD_FIGURES_SECONDS.
DASHBOARD_FACTS_SECONDS = env_int("WANGGE_DASHBOARD_FACTS_SECONDS", 60, minimum=5)
# PostgreSQL: the memory a facts rebuild may group in (its own transaction only).
DASHBOARD_FACTS_WORK_MEM = env_str("WANGGE_DASHBOARD_FACTS_WORK_MEM", "256MB")
DASHBOARD_FIGURES_SECONDS = env_int("WANGGE_DASHBOARD_FIGURES_SECONDS", 900, minimum=5)
# The 按期结案率 the charts draw as the target line (a share, 0–1).
DASHBOARD_ON_TIME_TARGET = env_float("WANGGE_DASHBOARD_ON_TIME_TARGET", 0.9)
EVENTS_PHOTO_MAX_BYTES = env_int("WANGGE_EVENTS_PHOTO_MAX_MB", 10, minimum=1) * 1024 * 1024
SMS_BACKEND = env_str("WANGGE_SMS_BACKEND", "wangge.events.notify.LogSmsBackend")
