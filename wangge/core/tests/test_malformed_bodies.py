"""Multipart bodies Django cannot parse (no boundary, an empty or broken one) are the client's
error: a 400 in the API's error shape or on a page, never a 500 (security review, finding 13).
Open311's own shape is tested in events/tests/test_open311.py."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db

BROKEN = [
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "multipart/form-data; boundary=\x00",
]
BODY = (
    b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nabc\r\n--x--\r\n'
)


@pytest.mark.parametrize("content_type", BROKEN)
@pytest.mark.parametrize(
    "path", ["/api/v1/events/1/photos", "/api/v1/ledger/import/people", "/api/v1/teams-roster"]
)
def test_api_answers_a_broken_multipart_body_with_a_400(
    api_as: Any, path: str, content_type: str
) -> None:
    response = api_as("demo-district").post(path, data=BODY, content_type=content_type)
    assert response.status_code == 400
    assert response.json() == {
        "code": "malformed_body",
        "message": "请求正文无法解析。",
        "details": None,
    }


@pytest.mark.parametrize("path", ["/ledger/import/", "/teams/roster/", "/events/report/"])
def test_a_page_answers_a_broken_multipart_body_with_a_400_page(client_as: Any, path: str) -> None:
    response = client_as("demo-district").post(path, data=BODY, content_type=BROKEN[0])
    assert response.status_code == 400
    page = response.content.decode()
    assert "<h1>请求无效</h1>" in page
    assert "Traceback" not in page
