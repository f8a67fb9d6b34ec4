"""`wangge serve` and `wangge demo` refuse to start without the front-end files the pages name
(core/vendor_files.txt); the list is what the templates name and what scripts/vendor_static.sh
copies."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from gunicorn.app.base import BaseApplication

from wangge.core.staticcheck import missing_static, required_static

pytestmark = pytest.mark.django_db

PACKAGE = Path(settings.BASE_DIR)


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """A command that got past the check would start gunicorn and never return: fail instead."""

    def refuse(self: Any) -> None:
        raise AssertionError("the server started")

    monkeypatch.setattr(BaseApplication, "run", refuse)


@pytest.fixture
def static_without_htmx(tmp_path: Path) -> Path:
    static = tmp_path / "static"
    shutil.copytree(PACKAGE / "static", static)
    shutil.rmtree(static / "vendor" / "htmx")
    return static


def test_the_list_holds_every_vendor_file_a_template_names() -> None:
    named = set()
    for template in PACKAGE.rglob("templates/**/*"):
        if template.is_file():
            text = template.read_text(encoding="utf-8")
            named |= set(re.findall(r"""static ['"](vendor/[^'"]+)['"]""", text))
    assert named  # the pattern still finds them
    assert named <= set(required_static())


def test_the_list_is_what_the_vendor_script_copies() -> None:
    # `make setup` (which `make test` runs first) ran scripts/vendor_static.sh.
    vendor = PACKAGE / "static" / "vendor"
    copied = {
        str(p.relative_to(PACKAGE / "static"))
        for p in vendor.rglob("*")
        if p.is_file() and p.name != ".copied"
    }
    assert copied == set(required_static())
    assert missing_static() == []


def test_serve_refuses_to_start_without_the_front_end_files(
    static_without_htmx: Path, no_server: None, capsys: Any
) -> None:
    with override_settings(STATICFILES_DIRS=[static_without_htmx]):
        assert missing_static() == ["vendor/htmx/LICENSE", "vendor/htmx/htmx.min.js"]
        with pytest.raises(SystemExit) as exit_info:
            call_command("serve", "--bind", "127.0.0.1:1")

    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "vendor/htmx/htmx.min.js" in err
    assert "缺少前端文件" in err  # in Chinese (the site language) …
    assert "The front-end files are missing" in err  # … and in English
    assert "make setup" in err and "make wheel" in err


def test_serve_without_collectstatic_refuses_when_nothing_was_collected(
    tmp_path: Path, no_server: None, capsys: Any
) -> None:
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    with (
        override_settings(STATIC_ROOT=tmp_path / "collected", STORAGES=storages),
        pytest.raises(SystemExit) as exit_info,
    ):
        call_command("serve", "--no-collectstatic")

    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "--no-collectstatic" in err and "vendor/echarts/LICENSE" in err


def test_demo_refuses_before_building(
    static_without_htmx: Path, no_server: None, capsys: Any
) -> None:
    with (
        override_settings(STATICFILES_DIRS=[static_without_htmx]),
        pytest.raises(SystemExit) as exit_info,
    ):
        call_command("demo")

    assert exit_info.value.code == 1
    out, err = capsys.readouterr()
    assert "vendor/htmx/htmx.min.js" in err
    assert out == ""  # nothing built, nothing said about the demo district
