"""Open311 GeoReport v2 (`domain.md` §5): plain Django views under /open311/, JSON and XML.

- `discovery.{json,xml}`: the discovery document.
- `v2/services.{fmt}`, `v2/services/{code}.{fmt}`: active public minor categories.
- `v2/requests.{fmt}`: GET searches requests, POST (form-encoded) reports one; it enters as
  channel `open311`, waiting for acceptance, through `intake.event_report`. The client's key
  comes in the body (`api_key`, as the specification has it) or the `X-Api-Key` header; a key
  in the address is refused, because addresses are written to access logs.
- `v2/requests/{id}.{fmt}`, `v2/tokens/{token}.{fmt}`: one request, a token's request.

Reads need no key (the specification allows public reads): they run as the public scope
`OPEN311_READER` through the selectors, so only reports from the public in public categories
are listed and readable, and no reporter data (name, phone) ever leaves. A keyed client reports
as its own public scope (`open311_client_scope`), never as the system. Errors are always
`[{"code": <HTTP status>, "description": "…"}]` (XML: `<errors><error>…`) with 400, 403 or
404, never an HTML page or a stack trace.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import re_path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from wangge.core import dates
from wangge.core.errors import MalformedRequest, NotFound, NulCharacter, WanggeError
from wangge.core.middleware import holds_nul
from wangge.core.selectors import department_names
from wangge.events import intake, selectors, services
from wangge.events.models import Category, Channel, CloseKind, Event, Status
from wangge.events.public import OPEN311_READER, open311_client_scope

log = logging.getLogger(__name__)

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-28T00:00:00Z"  # when this implementation last changed its interface
FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
MAX_RESULTS = 1000
MAX_RANGE = dt.timedelta(days=90)
MAX_DESCRIPTION = 4000
TITLE_CHARS = 30

# The XML element of one item of each list, under its root.
_ITEMS = {"services": "service", "service_requests": "request", "errors": "error"}
_NESTED_ITEMS = {
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
# Characters XML 1.0 cannot carry (a pasted description may hold them).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_CJK = re.compile("[\u3400-\u9fff]")


class Open311Error(Exception):
    """A specification error: HTTP `status`, body `[{code: status, description}]`."""

    def __init__(self, status: int, description: Any):
        self.status = status
        self.description = str(description)
        super().__init__(self.description)


# --- rendering --------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _XML_ILLEGAL.sub("", str(value))


def _xml_fill(parent: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _xml_fill(ET.SubElement(parent, key), item)
    elif isinstance(value, list):
        name = _NESTED_ITEMS.get(parent.tag, "item")
        for item in value:
            _xml_fill(ET.SubElement(parent, name), item)
    else:
        parent.text = _text(value)


def to_xml(root: str, data: Any) -> bytes:
    """`data` (a list of dicts, or a dict) as the specification's XML under `root`."""
    element = ET.Element(root)
    if isinstance(data, list):
        name = _ITEMS.get(root, "item")
        for item in data:
            _xml_fill(ET.SubElement(element, name), item)
    else:
        _xml_fill(element, data)
    body: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=True)
    return body


def render(fmt: str, root: str, data: Any, status: int = 200) -> HttpResponse:
    body = to_xml(root, data) if fmt == "xml" else json.dumps(data, ensure_ascii=False).encode()
    return HttpResponse(body, status=status, content_type=FORMATS[fmt])


def error(fmt: str, status: int, description: Any) -> HttpResponse:
    data = [{"code": status, "description": str(description)}]
    return render(fmt if fmt in FORMATS else "json", "errors", data, status=status)


def _format_of(path: str) -> str:
    return "xml" if path.lower().endswith(".xml") else "json"


def refusal(request: HttpRequest, exc: WanggeError) -> HttpResponse:
    """A request the middleware turns away (core.middleware.register_refusal)."""
    return error(_format_of(request.path), 400, exc.message)


def endpoint(*methods: str) -> Callable[..., Callable[..., HttpResponse]]:
    """Check the format and the method, and turn every failure into a specification error."""

    allowed = set(methods) | ({"HEAD"} if "GET" in methods else set())

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, fmt: str = "", **kwargs: Any) -> HttpResponse:
            fmt = fmt.lower()
            if fmt not in FORMATS:
                return error("json", 404, _("Unknown format: use .json or .xml."))
            if "api_key" in request.GET:
                return error(
                    fmt,
                    400,
                    _(
                        "Do not put api_key in the address (addresses are logged): send it in "
                        "the request body or the X-Api-Key header, and replace this key."
                    ),
                )
            if request.method not in allowed:
                response = error(
                    fmt,
                    400,
                    _("Method %(method)s is not allowed here; use %(allowed)s.")
                    % {"method": request.method, "allowed": ", ".join(sorted(methods))},
                )
                response["Allow"] = ", ".join(sorted(allowed))
                return response
            try:
                return view(request, *args, fmt=fmt, **kwargs)
            except Open311Error as exc:
                return error(fmt, exc.status, exc.description)
            except WanggeError as exc:
                status = exc.status if exc.status in {403, 404} else 400
                return error(fmt, status, exc.message)
            except (MultiPartParserError, SuspiciousOperation):  # a body Django cannot read
                return error(fmt, 400, MalformedRequest().message)
            except Exception:
                log.exception("open311: %s %s failed", request.method, request.path)
                return error(fmt, 500, _("Internal error; please try again later."))

        # Keys, not cookies, authenticate here; exempt so a wrong method gets a spec error too.
        return csrf_exempt(wrapper)

    return decorate


def iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 with the time zone, in local time, to the second."""
    if value is None:
        return None
    return timezone.localtime(value).replace(microsecond=0).isoformat()


# --- services ---------------------------------------------------------------------------------


def public_categories() -> list[Category]:
    """The services: active public minor categories."""
    return selectors.categories(actor=OPEN311_READER, minor_only=True)


def _service(cat: Category) -> dict[str, Any]:
    group = cat.parent.name if cat.parent else ""
    return {
        "service_code": cat.code,
        "service_name": cat.name,
        "description": f"{group} / {cat.name}" if group else cat.name,
        "metadata": False,
        "type": "realtime",
        "keywords": "",
        "group": group,
    }


@endpoint("GET")
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    return render(fmt, "services", [_service(cat) for cat in public_categories()])


@endpoint("GET")
def service_definition(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    cat = next((c for c in public_categories() if c.code == code), None)
    if cat is None:
        raise Open311Error(404, _("Unknown service code: %(code)s") % {"code": code})
    return render(fmt, "service_definition", {"service_code": cat.code, "attributes": []})


# --- requests ---------------------------------------------------------------------------------


def status_notes(event: Event) -> str:
    label = str(Status(event.status).label) if event.status in Status.values else event.status
    if event.close_kind and event.close_kind in CloseKind.values:
        kind = str(CloseKind(event.close_kind).label)
        return _("%(status)s (%(kind)s)") % {"status": label, "kind": kind}
    return label


def agency_responsible(event: Event, departments: dict[str, str]) -> str:
    code = event.handler_department or event.department_code
    if code and departments.get(code):
        return departments[code]
    department = event.category.department
    return department.name if department is not None else ""


def request_out(event: Event, departments: dict[str, str]) -> dict[str, Any]:
    """One service request as the specification has it. Never the reporter's data."""
    return {
        "service_request_id": str(event.pk),
        "status": "open" if event.is_open else "closed",
        "status_notes": status_notes(event),
        "service_name": event.category.name,
        "service_code": event.category.code,
        "description": event.description,
        "agency_responsible": agency_responsible(event, departments),
        "service_notice": "",
        "requested_datetime": iso(event.created_at),
        "updated_datetime": iso(event.updated_at),
        "expected_datetime": iso(event.handle_due_at or event.due_at),
        "address": event.address,
        "address_id": "",
        "zipcode": "",
        "lat": event.lat,
        "long": event.lon,
        "media_url": "",
    }


def requests_out(events: Iterable[Event]) -> list[dict[str, Any]]:
    departments = department_names()
    return [request_out(event, departments) for event in events]


def parse_when(value: str, name: str, *, end: bool = False) -> dt.datetime:
    """A W3C date-time (or a date: its start, or its end for `end_date`), made aware."""
    text = value.strip()
    if " " in text and "T" in text:  # an unencoded "+08:00" arrives as " 08:00"
        text = text.replace(" ", "+")
    parsed: dt.datetime | None = None
    try:
        if _DATE_ONLY.fullmatch(text):
            day = parse_date(text)
            if day is not None:
                day = dates.checked_day(day, field=name)  # before time.max could overflow
                parsed = dt.datetime.combine(day, dt.time.max if end else dt.time.min)
        else:
            parsed = parse_datetime(text)
    except ValueError:
        parsed = None
    if parsed is None:
        raise Open311Error(
            400,
            _("%(name)s is not an ISO 8601 date-time: %(value)s") % {"name": name, "value": value},
        )
    # Years outside 2000–2100 are a 400 (DateOutOfRange), so the 90 days added below fit.
    return dates.checked_moment(parsed, field=name)


def search(params: Any, *, now: dt.datetime | None = None) -> list[Event]:
    """GET requests: by ids (which override every other filter), else by service code, date
    range (at most 90 days; the last 90 by default) and status; newest first, at most 1000."""
    ids_param = (params.get("service_request_id") or "").strip()
    if ids_param:
        parts = [p.strip() for p in ids_param.split(",") if p.strip()]
        if len(parts) > MAX_RESULTS or not all(p.isdigit() and len(p) < 16 for p in parts):
            raise Open311Error(
                400, _("service_request_id must be a comma-separated list of request ids.")
            )
        return selectors.public_events(
            actor=OPEN311_READER, ids=[int(p) for p in parts], limit=MAX_RESULTS
        )
    codes = [c.strip() for c in (params.get("service_code") or "").split(",") if c.strip()]
    start_param = (params.get("start_date") or "").strip()
    end_param = (params.get("end_date") or "").strip()
    start = parse_when(start_param, "start_date") if start_param else None
    end = parse_when(end_param, "end_date", end=True) if end_param else None
    if start is None and end is None:
        end = now or timezone.now()
    if start is None:
        assert end is not None
        start = end - MAX_RANGE
    if end is None:
        end = start + MAX_RANGE
    if start > end:
        raise Open311Error(400, _("start_date is after end_date."))
    if end - start > MAX_RANGE + dt.timedelta(seconds=1):  # a date-only end runs to 23:59:59.9…
        raise Open311Error(400, _("start_date and end_date may be at most 90 days apart."))
    statuses = {s.strip().lower() for s in (params.get("status") or "").split(",") if s.strip()}
    if statuses - {"open", "closed"}:
        raise Open311Error(400, _("status must be open or closed."))
    return selectors.public_events(
        actor=OPEN311_READER,
        codes=codes,
        start=start,
        end=end,
        statuses=statuses,
        limit=MAX_RESULTS,
    )


def _float(value: str, name: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise Open311Error(
            400, _("%(name)s is not a number: %(value)s") % {"name": name, "value": value}
        )
    return number


def reporter_name(first: str, last: str) -> str:
    """Family name first for Chinese names (张 + 三 = 张三), "first last" otherwise."""
    first, last = first.strip(), last.strip()
    if _CJK.search(first + last):
        return f"{last}{first}"
    return f"{first} {last}".strip()


def create(request: HttpRequest) -> intake.Intake:
    """POST requests: authenticate the client by its key (`api_key` in the body, or the
    `X-Api-Key` header), then report through intake as the client's own public scope."""
    data = request.POST
    if holds_nul(data.values()):  # a multipart form, which the middleware leaves to the view
        raise NulCharacter()
    key = (data.get("api_key") or request.headers.get("X-Api-Key") or "").strip()
    client = services.open311_client_for(key) if key else None
    if client is None:
        raise Open311Error(403, _("A valid api_key is required."))
    code = (data.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, _("service_code is required."))
    lat_param = (data.get("lat") or "").strip()
    long_param = (data.get("long") or "").strip()
    if not lat_param or not long_param:
        if (data.get("address_string") or data.get("address_id") or "").strip():
            raise Open311Error(
                400,
                _(
                    "Give the location as lat and long (WGS-84); "
                    "an address_string or address_id alone cannot be placed in a grid."
                ),
            )
        raise Open311Error(400, _("lat and long are required."))
    lat, lon = _float(lat_param, "lat"), _float(long_param, "long")
    description = (data.get("description") or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(400, _("The description is too long (at most 4,000 characters)."))
    report = intake.Report(
        category=code,
        title=" ".join(description.split())[:TITLE_CHARS],  # empty: intake uses the category
        description=description,
        lon=lon,
        lat=lat,
        address=(data.get("address_string") or "").strip(),
        reporter_name=reporter_name(data.get("first_name") or "", data.get("last_name") or ""),
        reporter_phone=(data.get("phone") or "").strip(),
        channel=Channel.OPEN311,
    )
    return intake.event_report(
        open311_client_scope(client.name),
        report,
        idempotency_key=request.headers.get("Idempotency-Key", ""),
        key_owner=f"open311:{client.name}",
        open311_client=client,
    )


@endpoint("GET", "POST")
def request_list(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        event = create(request).event
        notice = _(
            "Thank you. Your report waits to be checked by the community; "
            "follow it with the token %(token)s."
        ) % {"token": event.tracking_code}
        body = [
            {
                "service_request_id": str(event.pk),
                "token": event.tracking_code,
                "service_notice": notice,
                "account_id": None,
            }
        ]
        return render(fmt, "service_requests", body)
    return render(fmt, "service_requests", requests_out(search(request.GET)))


@endpoint("GET")
def request_detail(request: HttpRequest, request_id: str, fmt: str) -> HttpResponse:
    try:
        if len(request_id) >= 16:
            raise NotFound()
        event = selectors.public_event_get(actor=OPEN311_READER, event_id=int(request_id))
    except NotFound:
        raise NotFound(_("No such service request.")) from None
    return render(fmt, "service_requests", requests_out([event]))


@endpoint("GET")
def token_detail(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    try:
        event = selectors.event_by_tracking_code(actor=OPEN311_READER, code=token)
    except NotFound:
        event = None
    if event is None:
        raise NotFound(_("No such token."))
    body = [{"service_request_id": str(event.pk), "token": event.tracking_code}]
    return render(fmt, "service_requests", body)


# --- discovery --------------------------------------------------------------------------------


@endpoint("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    url = request.build_absolute_uri(reverse("open311:v2"))
    body = {
        "changeset": CHANGESET,
        "contact": _("The district's grid-management service centre."),
        "key_service": _(
            "Ask the district's administrator for an API key (wangge open311 keys create NAME)."
        ),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": url,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
    return render(fmt, "discovery", body)


def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """Anything else under /open311/: a specification 404, never an HTML page."""
    return error(_format_of(request.path), 404, _("Not found."))


def urlpatterns() -> list[Any]:
    fmt = r"\.(?P<fmt>[A-Za-z0-9]+)"
    return [
        re_path(rf"^discovery{fmt}$", discovery, name="discovery"),
        re_path(rf"^v2/services{fmt}$", service_list, name="services"),
        re_path(rf"^v2/services/(?P<code>[^/]+?){fmt}$", service_definition, name="service"),
        re_path(rf"^v2/requests{fmt}$", request_list, name="requests"),
        re_path(rf"^v2/requests/(?P<request_id>[0-9]+){fmt}$", request_detail, name="request"),
        re_path(rf"^v2/tokens/(?P<token>[^/]+?){fmt}$", token_detail, name="token"),
        re_path(r"^v2/$", csrf_exempt(not_found), name="v2"),
        # Any other path, line breaks included (`.` alone stops at one: an HTML 404 page).
        re_path(r"^(?P<path>[\s\S]*)$", csrf_exempt(not_found), name="not_found"),
    ]
