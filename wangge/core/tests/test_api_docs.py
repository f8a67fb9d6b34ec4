"""The API docs (security finding 16): Swagger UI from our own static files, with no inline
script, for logged-in users only; the OpenAPI document likewise."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from wangge.core.tests.test_security_headers import HEADERS, security_headers

pytestmark = pytest.mark.django_db


def test_anonymous_docs_go_to_the_login_page() -> None:
    response = Client().get("/api/v1/docs")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/api/v1/docs"


def test_anonymous_openapi_document_is_refused() -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 401
    assert response.json() == {"code": "unauthenticated", "message": "请先登录。", "details": None}
    assert security_headers(response) == HEADERS


def test_openapi_document_for_a_session_or_a_token(
    client_as: Callable[[str | None], Client], api_as: Callable[[str | None], Client]
) -> None:
    for client in (client_as("demo-grid"), api_as("demo-auditor")):
        response = client.get("/api/v1/openapi.json")
        assert response.status_code == 200
        assert "/api/v1/me" in response.json()["paths"]
    forged = Client(headers={"Authorization": "Bearer wg_not-a-token"})
    assert forged.get("/api/v1/openapi.json").status_code == 401


def test_docs_page_loads_local_files_and_no_inline_script(
    client_as: Callable[[str | None], Client],
) -> None:
    response = client_as("demo-grid").get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert re.findall(r"<script[^>]*>", html) == [
        '<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js">',
        '<script src="/static/wangge/api_docs.js">',
    ]
    assert re.findall(r'<link rel="stylesheet" href="([^"]+)">', html) == [
        "/static/vendor/swagger-ui/swagger-ui.css"
    ]
    assert 'data-openapi-url="/api/v1/openapi.json"' in html
    assert "http" not in html.lower()  # nothing from another server
    assert security_headers(response) == HEADERS
