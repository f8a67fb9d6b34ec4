"""Fast settings for the test suite: SQLite in memory, or WANGGE_TEST_DATABASE_URL (PostgreSQL)."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("WANGGE_DATA_DIR", tempfile.mkdtemp(prefix="wangge-test-"))
# An xdist worker inherits the environment of the session that started it: each worker keeps
# its keys, audit key, uploads and exports in a directory of its own below that one (once: a
# process the worker starts inherits the worker's).
_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker and os.path.basename(os.environ["WANGGE_DATA_DIR"]) != _worker:
    os.environ["WANGGE_DATA_DIR"] = os.path.join(os.environ["WANGGE_DATA_DIR"], _worker)
# Request metrics per worker too (the settings would otherwise keep the directory inherited
# from the session that started the worker).
os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.path.join(os.environ["WANGGE_DATA_DIR"], "metrics")
os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], mode=0o700, exist_ok=True)
os.environ.setdefault("WANGGE_SECRET_KEY", "test-secret-key-that-is-long-enough-0123456789")

# The settings read the environment prepared above, so they are imported after it (E402);
# test settings are the production ones plus overrides (F403).
from wangge.settings import *  # noqa: E402, F403
from wangge.settings import DB_POOL, DB_STATEMENT_TIMEOUT_MS, _database  # noqa: E402

_url = os.environ.get("WANGGE_TEST_DATABASE_URL", "sqlite://:memory:")
DATABASES = {"default": _database(_url, pool=DB_POOL, statement_timeout_ms=DB_STATEMENT_TIMEOUT_MS)}
if _url.startswith("sqlite"):
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}
else:
    # The read replica (PostgreSQL only) as Django's test mirror of the primary: the same
    # database through a connection of its own. The dashboard reads from it only in the tests
    # that route it there (tests/test_database.py); the others may not query a second alias.
    DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}
DASHBOARD_READ_DATABASE = "default"

# Argon2 at full cost makes every login in a test take ~50 ms; tests only need it to be correct.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
