from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from wangge.env import ConfigError, env_bool, env_int, secret_key


def test_env_bool_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ConfigError, match="X_FLAG"):
        env_bool("X_FLAG", False)
    monkeypatch.setenv("X_FLAG", "on")
    assert env_bool("X_FLAG", False) is True


def test_env_int_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_N", "ten")
    with pytest.raises(ConfigError):
        env_int("X_N", 1)
    monkeypatch.setenv("X_N", "0")
    with pytest.raises(ConfigError):
        env_int("X_N", 1, minimum=1)


def test_secret_key_generated_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WANGGE_SECRET_KEY", raising=False)
    first = secret_key(tmp_path)
    assert len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert secret_key(tmp_path) == first


def _settings_in_subprocess(
    env: dict[str, str], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    code = "import wangge.settings as s; print(s.DEBUG, s.TIME_ZONE, s.LANGUAGE_CODE, s.USE_TZ)"
    return subprocess.run(
        [sys.executable, "-c", code],
        env={"PATH": "/usr/bin:/bin", "WANGGE_DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_bad_database_url_fails_loudly(tmp_path: Path) -> None:
    result = _settings_in_subprocess({"WANGGE_DATABASE_URL": "mysql://x@y/z"}, tmp_path)
    assert result.returncode != 0
    assert "WANGGE_DATABASE_URL" in result.stderr


def test_defaults_are_production_safe(tmp_path: Path) -> None:
    result = _settings_in_subprocess({}, tmp_path)
    assert result.stdout.split() == ["False", "Asia/Shanghai", "zh-hans", "True"]
    demo = _settings_in_subprocess({"WANGGE_DEMO": "true"}, tmp_path)
    assert demo.stdout.split()[0] == "False"


def test_the_data_directory_and_database_are_private(tmp_path: Path) -> None:
    """Security finding 5: the SQLite file was created world-readable (0644)."""
    data = tmp_path / "data"
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'wangge.settings'; "
        "django.setup(); from django.db import connection; "
        "c = connection.cursor(); c.execute('CREATE TABLE t (x int)'); c.execute('INSERT INTO t VALUES (1)')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={"PATH": "/usr/bin:/bin", "WANGGE_DATA_DIR": str(data)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert data.stat().st_mode & 0o777 == 0o700
    database = data / "wangge.sqlite3"
    assert database.stat().st_mode & 0o777 == 0o600
    for sidecar in (data / "wangge.sqlite3-wal", data / "wangge.sqlite3-shm"):
        if sidecar.exists():
            assert sidecar.stat().st_mode & 0o077 == 0, sidecar


def test_the_demo_shows_our_error_pages_and_serves_static_files(tmp_path: Path) -> None:
    """Issue 14: the demo ran with DEBUG on, so an unknown URL showed Django's English technical
    page. With the demo's settings it shows our 404 page; static files and the icon still come."""
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'wangge.settings'; "
        "django.setup(); from django.core.management import call_command; "
        "call_command('collectstatic', interactive=False, verbosity=0); "
        "from django.test import Client; c = Client(HTTP_HOST='127.0.0.1'); "
        "r = c.get('/no-such-page/'); print(r.status_code); print(r.content.decode()); "
        "f = c.get('/favicon.ico'); print('FAVICON', f.status_code, f['Location']); "
        "s = c.get(f['Location']); print('ICON', s.status_code, s['Content-Type'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={"PATH": "/usr/bin:/bin", "WANGGE_DATA_DIR": str(tmp_path), "WANGGE_DEMO": "true"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    status, *body = result.stdout.splitlines()
    page = "\n".join(body)
    assert status == "404"
    assert "页面不存在" in page or "找不到" in page or "未找到" in page, page[:500]
    assert "Traceback" not in page and "DEBUG = True" not in page and "URLconf" not in page
    assert "FAVICON 302 /static/wangge/favicon." in page
    assert "ICON 200 image/svg+xml" in page
