"""A strict Content-Security-Policy and the other security headers on every response
(security finding 1): pages, API answers, 404s and static files."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from wangge.env import ConfigError, csp_source

pytestmark = pytest.mark.django_db

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
    "form-action 'self'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), geolocation=(self), microphone=(), payment=(), usb=()",
}


def security_headers(response: Any) -> dict[str, str | None]:
    return {name: response.headers.get(name) for name in HEADERS}


def test_a_page_has_the_security_headers() -> None:
    response = Client().get("/accounts/login/")
    assert response.status_code == 200
    assert security_headers(response) == HEADERS


def test_an_api_answer_has_the_security_headers(api_as: Callable[[str | None], Client]) -> None:
    response = api_as("demo-district").get("/api/v1/me")
    assert response.status_code == 200
    assert security_headers(response) == HEADERS
    refused = Client().get("/api/v1/me")
    assert refused.status_code == 401
    assert security_headers(refused) == HEADERS


def test_a_404_has_the_security_headers(client_as: Callable[[str | None], Client]) -> None:
    page = client_as("demo-district").get("/regions/999999999999999/")
    assert page.status_code == 404
    assert security_headers(page) == HEADERS
    nothing = Client().get("/no/such/page/")
    assert nothing.status_code == 404
    assert security_headers(nothing) == HEADERS


def test_a_static_file_has_the_security_headers(settings: Any) -> None:
    settings.WHITENOISE_USE_FINDERS = True
    response = Client().get("/static/wangge/events.js")  # a new Client: WhiteNoise sees it
    assert response.status_code == 200
    assert security_headers(response) == HEADERS


@pytest.mark.parametrize(
    ("url", "source"),
    [
        ("", ""),
        ("/tiles/{z}/{x}/{y}.png", ""),
        ("http://tiles.intranet:8080/{z}/{x}/{y}.png", "http://tiles.intranet:8080"),
        ("https://{s}.tiles.intranet/{z}/{x}/{y}.png", "https://*.tiles.intranet"),
    ],
)
def test_tile_server_becomes_an_image_source(url: str, source: str) -> None:
    assert csp_source("WANGGE_TILE_URL", url) == source


@pytest.mark.parametrize(
    "url",
    [
        "tiles.intranet/{z}/{x}/{y}.png",
        "//tiles.intranet/{z}/{x}/{y}.png",
        "ftp://tiles.intranet/{z}",
        "http://tiles-{s}.intranet/{z}",
        "http://tiles.intranet; script-src *",
        "http://user@tiles.intranet/{z}",
    ],
)
def test_a_tile_url_the_policy_cannot_name_fails_loudly(url: str) -> None:
    with pytest.raises(ConfigError, match="WANGGE_TILE_URL"):
        csp_source("WANGGE_TILE_URL", url)


def _policy_in_subprocess(tile_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import wangge.settings as s; print(s.CONTENT_SECURITY_POLICY)"],
        env={
            "PATH": "/usr/bin:/bin",
            "WANGGE_DATA_DIR": str(tmp_path),
            "WANGGE_TILE_URL": tile_url,
        },
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_policy_allows_the_configured_tile_server(tmp_path: Path) -> None:
    result = _policy_in_subprocess("http://{s}.tiles.intranet/{z}/{x}/{y}.png", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == CSP.replace(
        "img-src 'self' data: blob:;", "img-src 'self' data: blob: http://*.tiles.intranet;"
    )
    bad = _policy_in_subprocess("tiles.intranet/{z}/{x}/{y}.png", tmp_path)
    assert bad.returncode != 0
    assert "WANGGE_TILE_URL" in bad.stderr
