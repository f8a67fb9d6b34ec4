"""Requests no view can use are the client's error: a 400 in the API's error shape, Open311's
or the 400 page, never a 500 (core.middleware.RefuseUnusableRequestsMiddleware and the API's and
Open311's error handlers).

- Requests Django cannot read: a multipart body without a usable boundary (security review,
  finding 13), too many fields, a body over the size limit.
- A NUL character anywhere: PostgreSQL can neither store nor compare text holding one, so each
  of these was a 500 there (found by fuzzing pages and Open311 on PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from wangge.events.models import Event
from wangge.events.tests.test_open311 import assert_error, create_key

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
GRID = "440704003001001"
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
        "code": "malformed_request",
        "message": "请求无法解析。",
        "details": None,
    }


@pytest.mark.parametrize("path", ["/ledger/import/", "/teams/roster/", "/events/report/"])
def test_a_page_answers_a_broken_multipart_body_with_a_400_page(client_as: Any, path: str) -> None:
    response = client_as("demo-district").post(path, data=BODY, content_type=BROKEN[0])
    assert response.status_code == 400
    page = response.content.decode()
    assert "<h1>请求无效</h1>" in page
    assert "Traceback" not in page


@pytest.fixture
def small_limits(settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000


MANY = urlencode({f"f{i}": "1" for i in range(20)})
UNREADABLE = {"code": "malformed_request", "message": "请求无法解析。", "details": None}


@pytest.mark.usefixtures("small_limits")
def test_api_answers_too_many_fields_or_too_large_a_body_in_its_error_shape(api_as: Any) -> None:
    # Found while fuzzing: Django raises SuspiciousOperation on first read, the API made it a 500.
    api = api_as("demo-district")
    big = json.dumps({"category": "0102", "description": "长" * 2000})
    for response in (
        api.get(f"/api/v1/events?{MANY}"),
        api.post("/api/v1/events", big, content_type="application/json"),
        api.post("/api/v1/ledger/import/people", MANY, content_type=FORM),
    ):
        assert response.status_code == 400
        assert response.json() == UNREADABLE


@pytest.mark.usefixtures("small_limits")
def test_open311_and_pages_answer_too_many_fields_in_their_shapes(client_as: Any) -> None:
    assert assert_error(Client().get(f"/open311/v2/requests.xml?{MANY}"), 400) == "请求无法解析。"
    response = Client().post("/open311/v2/requests.json", MANY, content_type=FORM)
    assert assert_error(response, 400) == "请求无法解析。"
    page = client_as("demo-district").get(f"/events/?{MANY}")
    assert page.status_code == 400
    assert "<h1>请求无效</h1>" in page.content.decode()


# -- NUL characters --------------------------------------------------------------------------

MESSAGE = "请求中含有空字符（NUL），任何字段都不接受。"


@pytest.mark.parametrize(
    "url",
    [
        "/events/?q=%00",
        "/ledger/people/?q=a%00b",
        "/teams/staff/?q=%00",
        "/regions/%00/",
        f"/teams/grid/{GRID}%00/",
        "/events/public/track/?code=%00",
        "/audit/?action=%00",
        "/events/?%00=1",
    ],
)
def test_a_page_answers_a_nul_with_the_400_page(client_as: Any, url: str) -> None:
    response = client_as("demo-auditor" if url.startswith("/audit/") else "demo-district").get(url)
    assert response.status_code == 400
    assert "<h1>请求无效</h1>" in response.content.decode()


def test_a_form_with_a_nul_is_refused_before_the_view(client_as: Any) -> None:
    events = Event.objects.dangerously_unscoped().count()
    response = client_as("demo-grid").post(
        "/events/report/", {"category": "0102", "title": "坏\x00", "grid_code": GRID}
    )
    assert response.status_code == 400
    assert Event.objects.dangerously_unscoped().count() == events


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", "/api/v1/people?q=%00", None),
        ("get", "/api/v1/events?q=%00", None),
        ("get", "/api/v1/staff?q=%00", None),
        ("get", "/api/v1/regions/%00", None),
        ("post", "/api/v1/events", {"category": "0102", "title": "坏\x00", "grid_code": GRID}),
        (
            "post",
            "/api/v1/events",
            {"category": "0102", "title": "好", "grid_code": [GRID, {"\x00": 1}]},
        ),
    ],
)
def test_the_api_answers_a_nul_in_its_error_shape(
    api_as: Any, method: str, url: str, body: Any
) -> None:
    api = api_as("demo-district")
    if body is None:
        response = api.get(url)
    else:
        response = api.post(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"code": "nul_character", "message": MESSAGE, "details": None}


def test_an_escaped_backslash_before_u0000_is_no_nul(api_as: Any) -> None:
    body = json.dumps({"category": "0102", "title": "路径 C:\\u0000", "grid_code": GRID})
    assert "\\\\u0000" in body  # the text holds a backslash, then "u0000"
    response = api_as("demo-grid").post("/api/v1/events", body, content_type="application/json")
    assert response.status_code == 201
    assert response.json()["event"]["title"] == "路径 C:\\u0000"


@pytest.mark.parametrize("multipart", [False, True])
def test_open311_answers_a_nul_in_its_error_shape(multipart: bool) -> None:
    assert assert_error(Client().get("/open311/v2/requests.json?service_code=%00"), 400) == MESSAGE
    assert assert_error(Client().get("/open311/v2/services/%00.xml"), 400) == MESSAGE
    data = {"api_key": create_key(), "service_code": "0102", "lat": "22.5", "long": "113.07",
            "description": "坏\x00"}  # fmt: skip
    if multipart:
        response = Client().post("/open311/v2/requests.json", data)
    else:
        response = Client().post(
            "/open311/v2/requests.json",
            urlencode(data),
            content_type="application/x-www-form-urlencoded",
        )
    assert assert_error(response, 400) == MESSAGE
