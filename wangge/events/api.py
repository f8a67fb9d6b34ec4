"""Events API: intake (with Idempotency-Key), inboxes, one event, actions, photos, duplicates,
indicators, notifications, categories and the working calendar.

Adapters only: who may do what is decided by the services and selectors these call. The
actions' names and input schema are made from the workflow's table (`rules.RULES`)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import create_model

from wangge.core.api import ERRORS, WRITE_ERRORS, Day, ErrorOut, Moment, actor
from wangge.core.personal import mask_name, mask_phone
from wangge.events import intake, rules, selectors, services, workflow
from wangge.events.models import OPEN_STATUS_LIST, Category, Channel, Event
from wangge.events.models import Status as EventStatus

router = Router(tags=["events"])

CONFLICT_ERRORS: dict[int, Any] = {**WRITE_ERRORS, 409: ErrorOut}


class CategoryOut(Schema):
    code: str
    name: str
    parent: str | None = Field(None, description="major category code; None for a major one")
    department: str | None
    self_resolve: bool
    public: bool
    accept_limit: int
    accept_unit: str
    handle_limit: int
    handle_unit: str
    verify_limit: int
    verify_unit: str
    active: bool

    @staticmethod
    def resolve_parent(obj: Category) -> str | None:
        return obj.parent.code if obj.parent else None

    @staticmethod
    def resolve_department(obj: Category) -> str | None:
        return obj.department.code if obj.department else None


class EventOut(Schema):
    id: int
    number: str
    title: str
    description: str
    category: str
    category_name: str
    channel: str
    status: str
    status_label: str
    tier: int
    grid_code: str
    department_code: str
    lon: float | None
    lat: float | None
    address: str
    reporter_name: str = Field(description="masked")
    reporter_phone: str = Field(description="masked")
    tracking_code: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    due_at: dt.datetime | None = Field(description="the current stage's deadline")
    handle_due_at: dt.datetime | None = Field(
        description="the handling deadline, frozen at dispatch"
    )
    closed_at: dt.datetime | None
    close_kind: str
    overdue: bool
    supervised: bool
    no_return: bool
    satisfaction: int | None
    merged_into: int | None
    version: int

    @staticmethod
    def resolve_category(obj: Event) -> str:
        return obj.category.code

    @staticmethod
    def resolve_category_name(obj: Event) -> str:
        return obj.category.name

    @staticmethod
    def resolve_status_label(obj: Event) -> str:
        return str(EventStatus(obj.status).label)

    @staticmethod
    def resolve_reporter_name(obj: Event) -> str:
        return mask_name(obj.reporter_name)

    @staticmethod
    def resolve_reporter_phone(obj: Event) -> str:
        return mask_phone(obj.reporter_phone) if obj.reporter_phone else ""

    @staticmethod
    def resolve_merged_into(obj: Event) -> int | None:
        return obj.merged_into_id


class EventPage(Schema):
    count: int
    items: list[EventOut]
    next_before: int | None = Field(None, description="pass as `before` for the next page")


class EventFilter(Schema):
    box: Literal["all", "mine", "todo", "department", "overdue", "verify", "pending", "closed"] = (
        "all"
    )
    status: str = ""
    grid: str = Field(
        "",
        max_length=50,
        description="a region code (prefix), or a region name (英南村); 400 no_such_region "
        "when no region in scope has that name",
    )
    category: str = Field("", description="major or minor category code")
    q: str = ""
    since: Moment | None = None
    until: Moment | None = None
    limit: int = Field(50, ge=1, le=500)
    before: int | None = Field(None, description="keyset pagination: the last id seen")


def _filtered(request: HttpRequest, filters: EventFilter) -> Any:
    return selectors.event_list(
        actor=actor(request),
        box=filters.box,
        status=filters.status,
        grid=filters.grid,
        category=filters.category,
        q=filters.q,
        since=filters.since,
        until=filters.until,
    )


@router.get("/events", response={200: EventPage, **ERRORS}, summary="Events in scope (inboxes)")
def event_list(request: HttpRequest, filters: Query[EventFilter]) -> Any:
    qs = _filtered(request, filters).order_by("-id")
    page = qs.filter(id__lt=filters.before) if filters.before else qs
    items = list(page[: filters.limit])
    return {
        "count": qs.count(),
        "items": items,
        "next_before": items[-1].pk if len(items) == filters.limit else None,
    }


@router.get(
    "/events.geojson",
    response={200: dict[str, Any], **ERRORS},
    summary="Events in scope as GeoJSON points (open ones unless a box says otherwise)",
)
def event_points(request: HttpRequest, filters: Query[EventFilter]) -> Any:
    qs = _filtered(request, filters).filter(lon__isnull=False, lat__isnull=False)
    if filters.box == "all" and not filters.status:
        qs = qs.filter(status__literal_in=OPEN_STATUS_LIST)
    rows = qs.order_by("-id").values_list(
        "id", "lon", "lat", "title", "status", "overdue", "category__name", "created_at"
    )[:5000]
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {
                    "id": pk,
                    "number": f"SJ{created:%Y%m%d}{pk:06d}",
                    "title": title,
                    "status": status,
                    "overdue": overdue,
                    "category": category,
                },
            }
            for pk, lon, lat, title, status, overdue, category, created in rows
        ],
    }


class EventIn(Schema):
    category: str = Field(min_length=1, max_length=16, description="minor category code")
    title: str = Field("", max_length=100)
    description: str = Field("", max_length=4000)
    lon: float | None = None
    lat: float | None = None
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84"
    address: str = Field("", max_length=200)
    grid_code: str = Field("", max_length=15, description="when there is no point")
    channel: Literal["patrol", "hotline", "assigned", "video", "petition"] = "patrol"
    reporter_name: str = Field("", max_length=50)
    reporter_phone: str = Field("", max_length=20)


class DuplicateOut(Schema):
    id: int
    number: str
    title: str
    status: str
    created_at: dt.datetime


class IntakeOut(Schema):
    created: bool = Field(description="false when the Idempotency-Key was seen before")
    event: EventOut
    duplicates: list[DuplicateOut]


@router.post(
    "/events",
    response={201: IntakeOut, 200: IntakeOut, **WRITE_ERRORS},
    summary="Report an event (send an Idempotency-Key header so a retry never makes two)",
)
def event_create(request: HttpRequest, payload: EventIn) -> Any:
    report = intake.Report(
        category=payload.category,
        title=payload.title,
        description=payload.description,
        lon=payload.lon,
        lat=payload.lat,
        crs=payload.crs,
        address=payload.address,
        grid_code=payload.grid_code,
        reporter_name=payload.reporter_name,
        reporter_phone=payload.reporter_phone,
        channel=Channel(payload.channel),
    )
    result = intake.event_report(
        actor(request), report, idempotency_key=request.headers.get("Idempotency-Key", "")
    )
    body = {"created": result.created, "event": result.event, "duplicates": result.duplicates}
    return Status(201 if result.created else 200, body)


class ActionOut(Schema):
    at: dt.datetime
    actor: str
    action: str
    from_status: str
    to_status: str
    reason: str
    details: dict[str, Any]

    @staticmethod
    def resolve_actor(obj: Any) -> str:
        return str(obj.actor_name)


class PhotoOut(Schema):
    id: int
    stage: str
    content_type: str
    size: int
    uploaded_by: str
    uploaded_at: dt.datetime


class EventDetailOut(Schema):
    event: EventOut
    actions: list[ActionOut]
    photos: list[PhotoOut]
    allowed_actions: list[str]
    duplicates: list[DuplicateOut]


@router.get("/events/{event_id}", response={200: EventDetailOut, **ERRORS}, summary="One event")
def event_detail(request: HttpRequest, event_id: int) -> Any:
    who = actor(request)
    event = selectors.event_get(actor=who, event_id=event_id)
    return {
        "event": event,
        "actions": selectors.event_timeline(actor=who, event=event),
        "photos": selectors.event_photos(actor=who, event=event),
        "allowed_actions": selectors.event_abilities(actor=who, event=event)["actions"],
        "duplicates": selectors.event_duplicates(actor=who, event=event),
    }


def _action_field(param: rules.Param, actions: list[str]) -> tuple[Any, Any]:
    """One input of the actions as an API field: every field is optional here (one schema
    serves every action); the workflow refuses an action without what it needs."""
    uses = "for " + ", ".join(actions)
    description = f"{uses}: {param.description}" if param.description else uses
    if param.kind == "int":
        return int | None, Field(None, ge=param.minimum, le=param.maximum, description=description)
    if param.kind == "bool":
        return bool | None, Field(None, description=description)
    if param.values:
        return cast(Any, Literal)[param.values] | None, Field(None, description=description)
    return str, Field("", max_length=param.max_length, description=description)


_ACTION_FIELDS: dict[str, Any] = {
    name: _action_field(param, actions) for name, (param, actions) in rules.params_by_name().items()
}
_ACTION_FIELDS["version"] = (
    int | None,
    Field(None, description="fail with 409 if the event changed since"),
)

# Made from the table at import, so a new action or input is one edit there. mypy sees the
# plain types (it cannot read a schema built at run time); django-ninja reads these.
if TYPE_CHECKING:
    ActionIn = Schema
    ActionName = str
else:
    ActionIn = create_model("ActionIn", __base__=Schema, **_ACTION_FIELDS)
    ActionName = Literal[rules.ACTIONS]


@router.post(
    "/events/{event_id}/actions/{action}",
    response={200: EventOut, **CONFLICT_ERRORS},
    summary="Act on an event (one transition function decides what is allowed, for whom)",
)
def event_action(request: HttpRequest, event_id: int, action: ActionName, payload: ActionIn) -> Any:
    given = payload.dict()
    reason, version = given.pop("reason"), given.pop("version")
    params = {k: v for k, v in given.items() if v not in (None, "")}
    return workflow.transition(
        actor(request), event_id, action, reason=reason, expected_version=version, **params
    )


@router.post(
    "/events/{event_id}/photos",
    response={201: list[PhotoOut], **WRITE_ERRORS},
    summary="Attach photos (JPEG/PNG/WebP) at a stage: report, handle or verify",
)
def event_photos_add(
    request: HttpRequest,
    event_id: int,
    files: File[list[UploadedFile]],
    stage: Literal["report", "handle", "verify"] = "report",
) -> Any:
    added = services.photos_add(
        actor=actor(request), event=event_id, files=[f.read() for f in files], stage=stage
    )
    return Status(201, added)


@router.get(
    "/events/{event_id}/photos/{photo_id}",
    response={200: None, **ERRORS},
    summary="One photo (image bytes)",
)
def event_photo(request: HttpRequest, event_id: int, photo_id: int) -> HttpResponse:
    photo, data = selectors.event_photo_file(
        actor=actor(request), event_id=event_id, photo_id=photo_id
    )
    response = HttpResponse(data, content_type=photo.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


class RevealReporterIn(Schema):
    field: Literal["reporter_name", "reporter_phone"]
    reason: str = Field(min_length=1, max_length=500)


class RevealReporterOut(Schema):
    field: str
    value: str


@router.post(
    "/events/{event_id}/reveal",
    response={200: RevealReporterOut, **WRITE_ERRORS},
    summary="See the reporter's full name or phone (role and reason required; audited)",
)
def event_reveal(request: HttpRequest, event_id: int, payload: RevealReporterIn) -> Any:
    value = services.reporter_reveal(
        actor=actor(request), event_id=event_id, field=payload.field, reason=payload.reason
    )
    return {"field": payload.field, "value": value}


class IndicatorRow(Schema):
    key: str = Field(description="department code or region code")
    name: str = ""
    should_close: int
    closed: int
    closed_on_time: int
    close_rate: float | None = Field(description="结案率 = closed / should-close")
    on_time_rate: float | None = Field(description="按期结案率 = closed on time / should-close")
    overdue: int
    returned: int
    reworked: int
    extended: int
    parked: int
    avg_handling_hours: float | None


class IndicatorsOut(Schema):
    by: str
    since: dt.datetime | None
    until: dt.datetime | None
    rows: list[IndicatorRow]
    total: IndicatorRow


@router.get(
    "/events-indicators",
    response={200: IndicatorsOut, **ERRORS},
    summary="结案率, 按期结案率 and counts by department, street, community or grid",
)
def event_indicators(
    request: HttpRequest,
    by: Literal["department", "street", "community", "grid"] = "street",
    since: Moment | None = None,
    until: Moment | None = None,
) -> Any:
    rows = selectors.indicators(actor=actor(request), by=by, since=since, until=until)
    return {
        "by": by,
        "since": since,
        "until": until,
        "rows": rows,
        "total": selectors.indicators_total(rows) | {"name": ""},
    }


@router.get(
    "/event-categories", response={200: list[CategoryOut], **ERRORS}, summary="The category tree"
)
def category_list(request: HttpRequest) -> Any:
    return selectors.categories(actor=actor(request))


class CategoryPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=64)
    department: str | None = Field(None, max_length=32)
    self_resolve: bool | None = None
    public: bool | None = None
    active: bool | None = None
    accept_limit: int | None = Field(None, ge=1, le=10000)
    accept_unit: Literal["minute", "hour", "day"] | None = None
    handle_limit: int | None = Field(None, ge=1, le=10000)
    handle_unit: Literal["minute", "hour", "day"] | None = None
    verify_limit: int | None = Field(None, ge=1, le=10000)
    verify_unit: Literal["minute", "hour", "day"] | None = None


@router.patch(
    "/event-categories/{code}",
    response={200: CategoryOut, **WRITE_ERRORS},
    summary="Change a category (district administrators)",
)
def category_patch(request: HttpRequest, code: str, payload: CategoryPatch) -> Any:
    fields = {k: v for k, v in payload.dict().items() if v is not None}
    return services.category_update(actor=actor(request), code=code, **fields)


class NotificationOut(Schema):
    id: int
    event_id: int | None
    kind: str
    message: str
    created_at: dt.datetime
    read_at: dt.datetime | None


@router.get(
    "/notifications", response={200: list[NotificationOut], **ERRORS}, summary="My notifications"
)
def notification_list(request: HttpRequest, unread: bool = False, limit: int = 50) -> Any:
    limit = max(1, min(limit, 500))
    return list(selectors.notifications(actor=actor(request), unread_only=unread)[:limit])


class ReadIn(Schema):
    ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] | None = Field(
        None, max_length=1000, description="omit to mark all read"
    )


class CountOut(Schema):
    count: int


@router.post("/notifications/read", response={200: CountOut, **WRITE_ERRORS}, summary="Mark read")
def notification_read(request: HttpRequest, payload: ReadIn) -> Any:
    return {"count": services.notifications_read(actor=actor(request), ids=payload.ids)}


class CalendarDayOut(Schema):
    date: dt.date
    is_workday: bool
    official: bool = Field(description="what the published calendar says")
    override: bool
    note: str = ""


@router.get(
    "/calendar",
    response={200: list[CalendarDayOut], **ERRORS},
    summary="The working calendar of a month",
)
def calendar_month(request: HttpRequest, year: int, month: int) -> Any:
    return selectors.calendar_month(actor=actor(request), year=year, month=month)


class DeadlineOut(Schema):
    start: dt.datetime
    amount: int
    unit: str
    deadline: dt.datetime


@router.get(
    "/calendar/deadline",
    response={200: DeadlineOut, **ERRORS},
    summary="The deadline a limit gives from a start (on the working calendar)",
)
def calendar_deadline(
    request: HttpRequest,
    amount: int,
    unit: Literal["minute", "hour", "day"] = "day",
    start: Moment | None = None,
) -> Any:
    begin = start or timezone.now()
    if timezone.is_naive(begin):
        begin = timezone.make_aware(begin)
    deadline = selectors.calendar_deadline(
        actor=actor(request), start=begin, amount=amount, unit=unit
    )
    return {"start": begin, "amount": amount, "unit": unit, "deadline": deadline}


class CalendarIn(Schema):
    is_workday: bool | None = Field(description="null removes the override")
    note: str = Field("", max_length=100)


@router.put(
    "/calendar/{day}",
    response={200: list[CalendarDayOut], **WRITE_ERRORS},
    summary="Override one date (district administrators); stored deadlines do not move",
)
def calendar_put(request: HttpRequest, day: Day, payload: CalendarIn) -> Any:
    who = actor(request)
    services.calendar_set(actor=who, date=day, is_workday=payload.is_workday, note=payload.note)
    month = selectors.calendar_month(actor=who, year=day.year, month=day.month)
    return [d for d in month if d["date"] == day]
