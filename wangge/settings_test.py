"""Fast settings for the test suite: SQLite in memory, or WANGGE_TEST_DATABASE_URL (PostgreSQL)."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("WANGGE_DATA_DIR", tempfile.mkdtemp(prefix="wangge-test-"))
os.environ.setdefault("WANGGE_SECRET_KEY", "test-secret-key-that-is-long-enough-0123456789")

from wangge.settings import *  # noqa: F403
from wangge.settings import _database

_url = os.environ.get("WANGGE_TEST_DATABASE_URL", "sqlite://:memory:")
DATABASES = {"default": _database(_url)}
if _url.startswith("sqlite"):
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}

# Argon2 at full cost makes every login in a test take ~50 ms; tests only need it to be correct.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
