"""Open311 GeoReport v2: keys, discovery, services, reporting and reading requests, errors."""

from __future__ import annotations

import datetime as dt
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone, translation

from wangge.core.scope import Scope
from wangge.events import open311, workflow
from wangge.events.intake import Report, event_report
from wangge.events.models import Category, Channel, CloseKind, Event, Open311Client, Status
from wangge.events.tests.conftest import MINE

pytestmark = pytest.mark.django_db

V2 = "/open311/v2"
NAME, PHONE = "王小明", "13912345678"


def xml(response: Any) -> ET.Element:
    assert response["Content-Type"].startswith("text/xml")
    return ET.fromstring(response.content)  # noqa: S314 - our own output


def body(response: Any) -> Any:
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


def assert_error(response: Any, status: int) -> str:
    """A specification error: the status, and `[{code, description}]` (JSON or XML)."""
    assert response.status_code == status, response.content
    if response["Content-Type"].startswith("text/xml"):
        root = xml(response)
        assert root.tag == "errors"
        assert root.findtext("error/code") == str(status)
        description = root.findtext("error/description") or ""
    else:
        errors = body(response)
        assert isinstance(errors, list)
        assert len(errors) == 1
        assert errors[0]["code"] == status
        description = errors[0]["description"]
    assert description
    assert "Traceback" not in description
    return description


def create_key(name: str = "app") -> str:
    out = io.StringIO()
    call_command("open311", "keys", "create", name, stdout=out)
    return out.getvalue().splitlines()[0]


@pytest.fixture
def key() -> str:
    return create_key()


@pytest.fixture
def post(point: Callable[[str], tuple[float, float]]) -> Callable[..., Any]:
    """POST a request (form-encoded) at an interior point of MINE; keyword arguments override."""

    def send(
        key: str | None, fmt: str = "json", headers: dict[str, str] | None = None, **fields: Any
    ) -> Any:
        lon, lat = point(MINE)
        data: dict[str, Any] = {
            "service_code": "0102",
            "lat": str(lat),
            "long": str(lon),
            "description": "小区门口垃圾堆了三天没人清理，气味很大，请尽快处理。",
            "address_string": "英南村村口",
            "first_name": "小明",
            "last_name": "王",
            "phone": PHONE,
            "email": "wxm@example.com",
        }
        if key is not None:
            data["api_key"] = key
        data.update(fields)
        data = {k: v for k, v in data.items() if v is not None}
        client = Client(enforce_csrf_checks=True, headers=headers or {})
        return client.post(f"{V2}/requests.{fmt}", data)

    return send


def new_request(post: Callable[..., Any], key: str | None, **fields: Any) -> dict[str, Any]:
    response = post(key, **fields)
    assert response.status_code == 200, response.content
    [created] = body(response)
    return dict(created)


# --- keys -------------------------------------------------------------------------------------


def test_keys_command_creates_lists_and_revokes() -> None:
    out = io.StringIO()
    call_command("open311", "keys", "create", "wechat", stdout=out)
    lines = out.getvalue().splitlines()
    plain = lines[0]
    assert plain.startswith("o311_")
    assert len(lines) == 2
    assert plain not in lines[1]
    client = Open311Client.objects.get(name="wechat")
    assert client.digest != plain
    assert plain.startswith(client.prefix)

    out = io.StringIO()
    call_command("open311", "keys", "list", stdout=out)
    row = next(line for line in out.getvalue().splitlines() if line.startswith("wechat\t"))
    assert row.split("\t")[1] == f"{client.prefix}…"
    assert row.split("\t")[3] == "-"
    assert plain not in out.getvalue()

    with pytest.raises(CommandError):
        call_command("open311", "keys", "create", "wechat", stdout=io.StringIO())

    call_command("open311", "keys", "revoke", "wechat", stdout=io.StringIO())
    client.refresh_from_db()
    assert client.revoked_at is not None
    out = io.StringIO()
    call_command("open311", "keys", "list", "--json", stdout=out)
    [listed] = [c for c in json.loads(out.getvalue()) if c["name"] == "wechat"]
    assert listed["revoked_at"] is not None
    with pytest.raises(CommandError):
        call_command("open311", "keys", "revoke", "wechat", stdout=io.StringIO())


# --- discovery and services -------------------------------------------------------------------


def test_discovery_json_and_xml() -> None:
    doc = body(Client().get("/open311/discovery.json"))
    [endpoint] = doc["endpoints"]
    assert endpoint["url"] == "http://testserver/open311/v2/"
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["type"] == "production"
    assert set(endpoint["formats"]) == {"application/json", "text/xml"}
    assert doc["changeset"]
    assert doc["key_service"]

    root = xml(Client().get("/open311/discovery.xml"))
    assert root.tag == "discovery"
    assert root.findtext("endpoints/endpoint/url") == "http://testserver/open311/v2/"
    formats = {f.text for f in root.findall("endpoints/endpoint/formats/format")}
    assert formats == {"application/json", "text/xml"}


def test_services_list_public_minor_categories_json() -> None:
    response = Client().get(f"{V2}/services.json")
    assert response.status_code == 200
    services = {s["service_code"]: s for s in body(response)}
    assert all(isinstance(code, str) for code in services)
    assert services["0102"]["service_name"] == "暴露垃圾"
    assert services["0102"]["group"] == "市容环境"
    assert services["0102"]["type"] == "realtime"
    assert services["0102"]["metadata"] is False
    assert "0601" not in services  # 矛盾纠纷 is not public
    assert "0901" not in services  # nor 信访
    assert "01" not in services  # a major category is not a service
    expected = Category.objects.filter(active=True, public=True, parent__isnull=False)
    assert set(services) == set(expected.values_list("code", flat=True))
    assert len(services) == 24  # 疫情防控 (1001, 1002) is internal

    Category.objects.filter(code="0104").update(active=False)
    codes = {s["service_code"] for s in body(Client().get(f"{V2}/services.json"))}
    assert "0104" not in codes
    assert_error(Client().get(f"{V2}/services/0104.json"), 404)


def test_services_list_xml() -> None:
    root = xml(Client().get(f"{V2}/services.xml"))
    assert root.tag == "services"
    codes = {s.findtext("service_code"): s for s in root.findall("service")}
    assert codes["0102"].findtext("service_name") == "暴露垃圾"
    assert codes["0102"].findtext("metadata") == "false"
    assert codes["0102"].findtext("group") == "市容环境"
    assert "0601" not in codes


def test_service_definition() -> None:
    assert body(Client().get(f"{V2}/services/0102.json")) == {
        "service_code": "0102",
        "attributes": [],
    }
    root = xml(Client().get(f"{V2}/services/0102.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "0102"
    assert root.find("attributes") is not None
    for code in ("0601", "9999", "01"):
        assert_error(Client().get(f"{V2}/services/{code}.json"), 404)
    assert_error(Client().get(f"{V2}/services/0601.xml"), 404)


# --- reporting and reading back ---------------------------------------------------------------


def test_post_then_token_then_request_json(post: Callable[..., Any], key: str) -> None:
    created = new_request(post, key)
    assert set(created) == {"service_request_id", "token", "service_notice", "account_id"}
    assert created["account_id"] is None
    assert created["service_notice"]
    event = Event.objects.dangerously_unscoped().get(pk=int(created["service_request_id"]))
    assert event.channel == Channel.OPEN311
    assert event.status == Status.PENDING
    assert event.open311_client == Open311Client.objects.get(name="app")
    assert event.tracking_code == created["token"]
    assert event.reporter_name == NAME  # family name first for a Chinese name
    assert event.reporter_phone == PHONE
    assert event.grid_code == MINE
    assert event.title == "小区门口垃圾堆了三天没人清理，气味很大，请尽快处理。"[:30]
    assert event.address == "英南村村口"

    tokens = body(Client().get(f"{V2}/tokens/{created['token']}.json"))
    assert tokens == [
        {"service_request_id": created["service_request_id"], "token": created["token"]}
    ]

    response = Client().get(f"{V2}/requests/{created['service_request_id']}.json")
    assert response.status_code == 200
    [req] = body(response)
    assert req["service_request_id"] == created["service_request_id"]
    assert req["status"] == "open"
    assert req["status_notes"]
    assert req["service_code"] == "0102"
    assert req["service_name"] == "暴露垃圾"
    assert req["description"] == event.description
    assert req["agency_responsible"] == "城管"  # the category's department before dispatch
    assert req["address"] == "英南村村口"
    assert req["address_id"] == req["zipcode"] == req["media_url"] == ""
    assert req["lat"] == pytest.approx(event.lat)
    assert req["long"] == pytest.approx(event.lon)
    for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
        when = dt.datetime.fromisoformat(req[field])
        assert when.tzinfo is not None, field
    assert dt.datetime.fromisoformat(req["requested_datetime"]) == event.created_at.replace(
        microsecond=0
    )
    assert NAME not in response.content.decode()
    assert PHONE not in response.content.decode()


def test_post_then_token_then_request_xml(post: Callable[..., Any], key: str) -> None:
    response = post(key, fmt="xml")
    assert response.status_code == 200, response.content
    root = xml(response)
    assert root.tag == "service_requests"
    request_id = root.findtext("request/service_request_id")
    token = root.findtext("request/token")
    assert request_id
    assert token
    assert root.find("request/account_id") is not None

    tokens = xml(Client().get(f"{V2}/tokens/{token}.xml"))
    assert tokens.findtext("request/service_request_id") == request_id

    response = Client().get(f"{V2}/requests/{request_id}.xml")
    root = xml(response)
    assert root.tag == "service_requests"
    [req] = root.findall("request")
    assert req.findtext("service_request_id") == request_id
    assert req.findtext("status") == "open"
    assert req.findtext("service_code") == "0102"
    assert float(req.findtext("lat") or "nan") > 0
    assert dt.datetime.fromisoformat(req.findtext("requested_datetime") or "").tzinfo is not None
    assert NAME not in response.content.decode()
    assert PHONE not in response.content.decode()


def test_reporter_data_never_in_reads(post: Callable[..., Any], key: str) -> None:
    created = new_request(post, key, first_name="Alice", last_name="Example", phone="5550100")
    event = Event.objects.dangerously_unscoped().get(pk=int(created["service_request_id"]))
    assert event.reporter_name == "Alice Example"
    request_id = created["service_request_id"]
    urls = [
        f"{V2}/requests/{request_id}.json",
        f"{V2}/requests/{request_id}.xml",
        f"{V2}/requests.json?service_request_id={request_id}",
        f"{V2}/requests.xml",
        f"{V2}/tokens/{created['token']}.json",
    ]
    for url in urls:
        text = Client().get(url).content.decode()
        assert request_id in text, url
        for secret in ("Alice", "Example", "5550100", "wxm@example.com"):
            assert secret not in text, (url, secret)


def test_request_list_filters(post: Callable[..., Any], key: str) -> None:
    first = new_request(post, key)["service_request_id"]
    second = new_request(post, key, service_code="0103")["service_request_id"]
    system = Scope.system("test")
    workflow.transition(system, int(second), "reject", reason="不属实")

    ids = body(Client().get(f"{V2}/requests.json?service_request_id={first},{second}"))
    assert {r["service_request_id"] for r in ids} == {first, second}

    by_code = body(Client().get(f"{V2}/requests.json?service_code=0103"))
    assert second in {r["service_request_id"] for r in by_code}
    assert first not in {r["service_request_id"] for r in by_code}
    assert {r["service_code"] for r in by_code} == {"0103"}

    open_ = {r["service_request_id"] for r in body(Client().get(f"{V2}/requests.json?status=open"))}
    closed = body(Client().get(f"{V2}/requests.json?status=closed"))
    assert first in open_
    assert second not in open_
    [rejected] = [r for r in closed if r["service_request_id"] == second]
    assert rejected["status"] == "closed"
    with translation.override(settings.LANGUAGE_CODE):  # what the API speaks by default
        assert rejected["status_notes"] == str(Status.REJECTED.label)
    assert {r["status"] for r in closed} == {"closed"}

    third = new_request(post, key)["service_request_id"]
    workflow.transition(system, int(third), "close_special", reason="误报", kind="erroneous")
    [req] = body(Client().get(f"{V2}/requests/{third}.json"))
    assert req["status"] == "closed"
    with translation.override(settings.LANGUAGE_CODE):
        assert str(Status.CLOSED.label) in req["status_notes"]
        assert str(CloseKind.ERRONEOUS.label) in req["status_notes"]

    # the id list overrides the other filters
    both = body(Client().get(f"{V2}/requests.json?service_request_id={first},{second}&status=open"))
    assert {r["service_request_id"] for r in both} == {first, second}


def test_date_range_default_and_limits(post: Callable[..., Any], key: str) -> None:
    recent = new_request(post, key)["service_request_id"]
    old = new_request(post, key)["service_request_id"]
    long_ago = timezone.now() - dt.timedelta(days=120)
    Event.objects.dangerously_unscoped().filter(pk=int(old)).update(created_at=long_ago)

    default = {r["service_request_id"] for r in body(Client().get(f"{V2}/requests.json"))}
    assert recent in default
    assert old not in default

    start = timezone.localdate(long_ago).isoformat()  # dates are local (Asia/Shanghai) days
    end = timezone.localdate(long_ago).isoformat()  # a date-only end_date includes its day
    window = body(Client().get(f"{V2}/requests.json?start_date={start}&end_date={end}"))
    assert old in {r["service_request_id"] for r in window}
    assert recent not in {r["service_request_id"] for r in window}

    # a full date-time with an offset, its "+" left unencoded (it arrives as a space)
    since = timezone.localtime(long_ago - dt.timedelta(minutes=1)).replace(microsecond=0)
    until = since + dt.timedelta(minutes=2)
    assert "+08:00" in since.isoformat()
    query = f"start_date={since.isoformat()}&end_date={until.isoformat()}"
    window = body(Client().get(f"{V2}/requests.json?{query}"))
    assert old in {r["service_request_id"] for r in window}
    assert recent not in {r["service_request_id"] for r in window}

    too_long = "start_date=2026-01-01T00:00:00Z&end_date=2026-04-02T00:00:00Z"  # 91 days
    assert_error(Client().get(f"{V2}/requests.json?{too_long}"), 400)
    assert_error(Client().get(f"{V2}/requests.xml?{too_long}"), 400)
    ok = "start_date=2026-01-01T00:00:00Z&end_date=2026-03-31T00:00:00Z"  # 89 days
    assert Client().get(f"{V2}/requests.json?{ok}").status_code == 200
    reversed_ = "start_date=2026-03-01&end_date=2026-01-01"
    assert_error(Client().get(f"{V2}/requests.json?{reversed_}"), 400)
    assert_error(Client().get(f"{V2}/requests.json?start_date=yesterday"), 400)
    assert_error(Client().get(f"{V2}/requests.json?status=pending"), 400)
    assert_error(Client().get(f"{V2}/requests.json?service_request_id=1,x"), 400)


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("start_date", "0001-01-01"),
        ("end_date", "0001-01-01"),
        ("start_date", "9999-12-31"),
        ("start_date", "9999-12-31T23:59:59+14:00"),
        ("end_date", "9999-12-31T23:59:59+14:00"),
        ("end_date", "0001-01-01T00:00:00-14:00"),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_dates_outside_the_years_are_a_400_not_an_overflow(
    param: str, value: str, fmt: str
) -> None:
    # Security review, finding 7: anonymous searches at the ends of Python's dates were 500s.
    response = Client().get(f"{V2}/requests.{fmt}", {param: value})
    assert assert_error(response, 400) == f"日期 {value} 超出 2000 年至 2100 年的范围。"


def test_the_first_and_last_years_are_searchable() -> None:
    late = Client().get(f"{V2}/requests.json", {"start_date": "2100-12-31T23:59:59-14:00"})
    assert (late.status_code, body(late)) == (200, [])
    early = Client().get(f"{V2}/requests.json", {"end_date": "2000-01-01"})
    assert (early.status_code, body(early)) == (200, [])


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=\x00"],
)
def test_a_multipart_body_without_a_usable_boundary_is_a_400(content_type: str, key: str) -> None:
    # Security review, finding 13: Django cannot parse it and raised on request.POST.
    events = Event.objects.dangerously_unscoped().count()
    response = Client().post(
        f"{V2}/requests.json",
        data=b"service_code=0102",
        content_type=content_type,
        headers={"X-Api-Key": key},
    )
    assert assert_error(response, 400) == "请求无法解析。"
    assert Event.objects.dangerously_unscoped().count() == events


def test_dispatched_request_shows_department_and_deadline(
    post: Callable[..., Any], key: str
) -> None:
    request_id = new_request(post, key)["service_request_id"]
    system = Scope.system("test")
    workflow.transition(system, int(request_id), "accept")
    event = workflow.transition(system, int(request_id), "dispatch", department="shichang")
    [req] = body(Client().get(f"{V2}/requests/{request_id}.json"))
    assert req["status"] == "open"
    assert req["agency_responsible"] == "市场监管"
    with translation.override(settings.LANGUAGE_CODE):
        assert req["status_notes"] == str(Status.DISPATCHED.label)
    assert event.handle_due_at is not None
    assert dt.datetime.fromisoformat(req["expected_datetime"]) == event.handle_due_at.replace(
        microsecond=0
    )


def test_idempotency_key_retry_returns_the_same_request(post: Callable[..., Any], key: str) -> None:
    before = Event.objects.dangerously_unscoped().count()
    first = new_request(post, key, headers={"Idempotency-Key": "retry-1"})
    again = new_request(post, key, headers={"Idempotency-Key": "retry-1"})
    assert again["service_request_id"] == first["service_request_id"]
    assert again["token"] == first["token"]
    assert Event.objects.dangerously_unscoped().count() == before + 1
    other = new_request(post, key, headers={"Idempotency-Key": "retry-2"})
    assert other["service_request_id"] != first["service_request_id"]
    # the same key from another client is another client's report
    elsewhere = new_request(post, create_key("other"), headers={"Idempotency-Key": "retry-1"})
    assert elsewhere["service_request_id"] != first["service_request_id"]


# --- errors -----------------------------------------------------------------------------------


def test_post_without_a_valid_key_is_403(post: Callable[..., Any], key: str) -> None:
    before = Event.objects.dangerously_unscoped().count()
    assert_error(post(None), 403)
    assert_error(post(None, fmt="xml"), 403)
    assert_error(post("o311_not-a-key"), 403)
    assert_error(post(""), 403)
    assert Event.objects.dangerously_unscoped().count() == before


def test_a_key_in_the_address_is_refused(
    post: Callable[..., Any], key: str, point: Callable[[str], tuple[float, float]]
) -> None:
    """Security finding 15: addresses land in access logs, so a key there is refused (and the
    client is told where to put it), even a valid one, on every endpoint."""
    before = Event.objects.dangerously_unscoped().count()
    lon, lat = point(MINE)
    form = {"service_code": "0102", "lat": str(lat), "long": str(lon), "description": "路灯不亮"}
    for fmt in ("json", "xml"):
        response = Client().post(f"{V2}/requests.{fmt}?api_key={key}", form)
        description = assert_error(response, 400)
        assert "X-Api-Key" in description and key not in description
    assert "X-Api-Key" in assert_error(Client().get(f"{V2}/requests.json?api_key={key}"), 400)
    assert_error(Client().get(f"{V2}/services.json?api_key={key}"), 400)
    assert Event.objects.dangerously_unscoped().count() == before


def test_a_key_in_the_header_or_the_body_is_accepted(post: Callable[..., Any], key: str) -> None:
    in_body = new_request(post, key)
    in_header = new_request(post, None, headers={"X-Api-Key": key}, description="井盖松动有响声")
    assert in_body["service_request_id"] != in_header["service_request_id"]
    event = Event.objects.dangerously_unscoped().get(pk=int(in_header["service_request_id"]))
    assert (event.channel, event.open311_client.name if event.open311_client else None) == (
        "open311",
        "app",
    )


def test_revoked_key_is_403(post: Callable[..., Any]) -> None:
    key = create_key("revoked-app")
    assert post(key).status_code == 200
    call_command("open311", "keys", "revoke", "revoked-app", stdout=io.StringIO())
    assert_error(post(key), 403)


def test_bad_service_code_is_400(post: Callable[..., Any], key: str) -> None:
    assert_error(post(key, service_code="9999"), 400)
    assert_error(post(key, service_code="0601"), 400)  # not public
    assert_error(post(key, service_code="01"), 400)  # a major category
    assert_error(post(key, service_code=None), 400)
    assert_error(post(key, fmt="xml", service_code="9999"), 400)


def test_bad_location_is_400(post: Callable[..., Any], key: str) -> None:
    before = Event.objects.dangerously_unscoped().count()
    assert_error(post(key, lat="39.9042", long="116.4074"), 400)  # Beijing: outside the district
    assert_error(post(key, lat="0", long="0"), 400)
    assert_error(post(key, lat="north", long="113.1"), 400)
    assert_error(post(key, lat="nan", long="113.1"), 400)
    assert_error(post(key, lat="95", long="113.1"), 400)
    assert_error(post(key, lat=None, long=None), 400)
    message = assert_error(post(key, lat=None, long=None, address_string="英南村村口"), 400)
    assert "lat" in message
    assert Event.objects.dangerously_unscoped().count() == before


def test_description_too_long_is_400(post: Callable[..., Any], key: str) -> None:
    assert_error(post(key, description="垃" * 4001), 400)
    assert post(key, description="垃" * 4000).status_code == 200


def test_unknown_request_and_token_are_404(post: Callable[..., Any], key: str) -> None:
    assert_error(Client().get(f"{V2}/requests/999999999.json"), 404)
    assert_error(Client().get(f"{V2}/requests/999999999.xml"), 404)
    assert_error(Client().get(f"{V2}/requests/99999999999999999999999.json"), 404)
    assert_error(Client().get(f"{V2}/requests/abc.json"), 404)
    assert_error(Client().get(f"{V2}/tokens/NOSUCHTOKEN.json"), 404)
    assert_error(Client().get(f"{V2}/tokens/NOSUCHTOKEN.xml"), 404)
    assert_error(Client().get(f"{V2}/nothing-here"), 404)


def test_unknown_format_is_404(post: Callable[..., Any], key: str) -> None:
    request_id = new_request(post, key)["service_request_id"]
    for url in (
        f"{V2}/services.csv",
        f"{V2}/services/0102.html",
        f"{V2}/requests.yaml",
        f"{V2}/requests/{request_id}.html",
        "/open311/discovery.txt",
    ):
        response = Client().get(url)
        assert_error(response, 404)
        assert response["Content-Type"].startswith("application/json")
    assert_error(post(key, fmt="csv"), 404)


def test_a_path_with_a_line_break_is_a_spec_404_not_an_html_page() -> None:
    # Found by the Open311 fuzzer: the catch-all's `.` stopped at the line break.
    for url in (f"{V2}/requests/1%0A.xml", f"{V2}/requests/%C2%B9%0A.json", "/open311/%0A"):
        response = Client().get(url)
        assert_error(response, 404)


def test_method_not_allowed_is_a_spec_error(key: str) -> None:
    for method, url in (
        ("post", f"{V2}/services.json"),
        ("delete", f"{V2}/requests.json"),
        ("put", f"{V2}/requests/1.json"),
        ("post", "/open311/discovery.json"),
    ):
        response = getattr(Client(enforce_csrf_checks=True), method)(url)
        assert_error(response, 400)
        assert "GET" in response["Allow"]


def test_non_public_category_is_hidden(point: Callable[[str], tuple[float, float]]) -> None:
    lon, lat = point(MINE)
    report = Report(
        category="0601",
        title="邻里纠纷",
        description="楼上楼下噪音纠纷",
        lon=lon,
        lat=lat,
        channel=Channel.HOTLINE,
        reporter_name="李四",
    )
    event = event_report(Scope.system("test"), report).event
    assert event.tracking_code
    assert_error(Client().get(f"{V2}/requests/{event.pk}.json"), 404)
    assert_error(Client().get(f"{V2}/tokens/{event.tracking_code}.json"), 404)
    listed = body(Client().get(f"{V2}/requests.json?service_request_id={event.pk}"))
    assert listed == []
    everything = Client().get(f"{V2}/requests.json").content.decode()
    assert "楼上楼下噪音纠纷" not in everything
    assert_error(Client().get(f"{V2}/services/0601.json"), 404)


def test_at_most_max_results_newest_first(
    post: Callable[..., Any], key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    older = new_request(post, key)["service_request_id"]
    newer = new_request(post, key)["service_request_id"]
    monkeypatch.setattr(open311, "MAX_RESULTS", 1)
    [only] = body(Client().get(f"{V2}/requests.json"))
    assert only["service_request_id"] == newer
    ids = body(Client().get(f"{V2}/requests.json?service_request_id={older},{newer}"))
    assert len(ids) == 1


def test_the_administrations_own_reports_are_not_published(report: Any) -> None:
    """Patrol findings are internal work: Open311 reads only what came from the public."""
    patrol = report(category="0102")  # a public category, but a grid worker's report
    assert patrol.channel == Channel.PATROL
    assert_error(Client().get(f"/open311/v2/requests/{patrol.pk}.json"), 404)
    listed = body(Client().get("/open311/v2/requests.json"))
    assert str(patrol.pk) not in {r["service_request_id"] for r in listed}
