"""Photos: who may add them at which stage (the same rule on the API, the pages and the
service), checked before anything is written (security finding 14), one transaction with the
report or the action they belong to, and audited on every path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from wangge.core.errors import PermissionDenied, ValidationFailed
from wangge.core.models import AuditEntry, User
from wangge.core.scope import Scope, scope_for
from wangge.events import services, workflow
from wangge.events.intake import Report, event_report
from wangge.events.models import Event, EventPhoto
from wangge.events.public import RESIDENT
from wangge.events.tests.conftest import MINE, tiny_png

pytestmark = pytest.mark.django_db

PNG = tiny_png()
Point = Callable[[str], tuple[float, float]]


def who(username: str) -> Scope:
    return scope_for(User.objects.get(username=username))


def photos_of(event: Event) -> list[tuple[str, str]]:
    rows = EventPhoto.objects.dangerously_unscoped().filter(event=event).order_by("id")
    return list(rows.values_list("stage", "uploaded_by"))


def photo_audits(event: Event) -> list[tuple[str, dict[str, Any]]]:
    rows = AuditEntry.objects.filter(
        action="event.photos_add", object_type="event", object_id=str(event.pk)
    ).order_by("seq")
    return [(e.actor_name, e.details) for e in rows]


def upload(client: Any, event: Event, stage: str, data: bytes = PNG) -> Any:
    files = [SimpleUploadedFile("p.png", data, content_type="image/png")]
    return client.post(f"/api/v1/events/{event.pk}/photos?stage={stage}", {"files": files})


def messages_of(response: Any) -> list[str]:
    return [m.message for m in response.context["messages"]]


@pytest.fixture
def dispatched(report: Any) -> Event:
    """An event in demo-grid's grid, dispatched to 城管 (demo-dept's department)."""
    event = report(username="demo-district", category="0101", title="派城管的事件")
    return workflow.transition(who("demo-district"), event, "dispatch", department="chengguan")


# -- who may add photos at which stage -------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "stage"),
    [
        ("demo-grid", "handle"),  # a grid leader may report and verify here, not handle
        ("demo-dept", "report"),  # the department handles; it did not report
        ("demo-dept", "verify"),  # … and never verifies
    ],
)
def test_photos_refused_for_a_stage_the_actor_may_not_add(
    api_as: Any, dispatched: Event, username: str, stage: str
) -> None:
    response = upload(api_as(username), dispatched, stage)
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "permission_denied"
    with pytest.raises(PermissionDenied):  # the service says the same to any caller
        services.photos_add(actor=who(username), event=dispatched, files=[PNG], stage=stage)
    assert photos_of(dispatched) == []
    assert photo_audits(dispatched) == []


@pytest.mark.parametrize(
    ("username", "stage"),
    [("demo-grid", "report"), ("demo-grid", "verify"), ("demo-dept", "handle")],
)
def test_photos_added_for_a_stage_the_actor_may_add_and_audited(
    api_as: Any, dispatched: Event, username: str, stage: str
) -> None:
    response = upload(api_as(username), dispatched, stage)
    assert response.status_code == 201, response.content
    assert [p["stage"] for p in response.json()] == [stage]
    assert photos_of(dispatched) == [(stage, username)]
    assert photo_audits(dispatched) == [(username, {"count": 1, "stage": stage})]


def test_the_page_adds_photos_only_with_a_step_that_takes_them(
    client_as: Any, dispatched: Event
) -> None:
    """The department starts handling (a step without photos) with a photo attached: refused
    as a whole, nothing done; reporting back takes handling photos, in the same step."""
    page = client_as("demo-dept")
    photo = SimpleUploadedFile("p.png", PNG, content_type="image/png")
    refused = page.post(f"/events/{dispatched.pk}/act/handle/", {"photos": [photo]}, follow=True)
    assert refused.status_code == 200
    with translation.override(django_settings.LANGUAGE_CODE):
        assert messages_of(refused) == [translation.gettext("This step takes no photos.")]
    assert Event.objects.dangerously_unscoped().get(pk=dispatched.pk).status == "dispatched"
    assert photos_of(dispatched) == []

    photo = SimpleUploadedFile("p.png", PNG, content_type="image/png")
    done = page.post(f"/events/{dispatched.pk}/act/report/", {"note": "已处理", "photos": [photo]})
    assert done.status_code == 302
    assert Event.objects.dangerously_unscoped().get(pk=dispatched.pk).status == "verifying"
    assert photos_of(dispatched) == [("handle", "demo-dept")]
    assert photo_audits(dispatched) == [("demo-dept", {"count": 1, "stage": "handle"})]


def test_the_grid_resolving_a_matter_adds_its_handling_photos(report: Any) -> None:
    event = report(category="0102")
    workflow.transition(who("demo-grid"), event, "self_resolve", photos=[PNG])
    assert photos_of(event) == [("handle", "demo-grid")]
    # Anyone else with the same role there may not add handling photos to it.
    with pytest.raises(PermissionDenied):
        services.photos_add(actor=who("demo-community"), event=event, files=[PNG], stage="handle")


# -- security finding 14: checked before anything is written, one transaction --------------------


def oversized() -> bytes:
    return PNG + b"\x00" * 200


def public_form(point: Point, **fields: Any) -> dict[str, Any]:
    lon, lat = point(MINE)
    return {
        "category": "0102",
        "title": "楼道堆满杂物",
        "lon": str(lon),
        "lat": str(lat),
        "idempotency_key": "resident-photo-1",
    } | fields


def test_a_public_report_with_a_photo_too_large_is_refused_whole(
    client_as: Any, point: Point, settings: Any
) -> None:
    """Finding 14: the photo was refused after the event was made, and the resident never saw
    its tracking code. Now nothing is made, the resident is told, and sending it again without
    the photo works (with the same idempotency key)."""
    settings.EVENTS_PHOTO_MAX_BYTES = len(PNG) + 100
    client = client_as(None)
    creates = AuditEntry.objects.filter(action="event.create").count()
    photo = SimpleUploadedFile("big.png", oversized(), content_type="image/png")
    refused = client.post("/events/public/report/", public_form(point, photos=[photo]))
    assert refused.status_code == 200
    with translation.override(django_settings.LANGUAGE_CODE):
        assert messages_of(refused) == [translation.gettext("A photo is too large.")]
    assert not Event.objects.dangerously_unscoped().filter(title="楼道堆满杂物").exists()
    assert AuditEntry.objects.filter(action="event.create").count() == creates

    ok = client.post("/events/public/report/", public_form(point))
    assert ok.status_code == 302
    code = parse_qs(urlsplit(ok["Location"]).query)["code"][0]
    event = Event.objects.dangerously_unscoped().get(title="楼道堆满杂物")
    assert event.tracking_code == code


def test_a_public_report_with_its_photos_is_one_step(client_as: Any, point: Point) -> None:
    photo = SimpleUploadedFile("ok.png", PNG, content_type="image/png")
    response = client_as(None).post("/events/public/report/", public_form(point, photos=[photo]))
    assert response.status_code == 302
    event = Event.objects.dangerously_unscoped().get(title="楼道堆满杂物")
    assert photos_of(event) == [("report", "resident")]
    assert photo_audits(event) == [("resident", {"count": 1, "stage": "report"})]


@pytest.mark.parametrize(
    ("files", "code"),
    [
        ([b"not a picture at all"], "not_an_image"),
        ([PNG + b"\x00" * 200], "photo_too_large"),
        ([PNG] * 7, "too_many_photos"),
    ],
)
def test_intake_checks_every_photo_before_it_makes_the_event(
    point: Point, settings: Any, files: list[bytes], code: str
) -> None:
    settings.EVENTS_PHOTO_MAX_BYTES = len(PNG) + 100
    lon, lat = point(MINE)
    before = Event.objects.dangerously_unscoped().count()
    for actor, channel in ((RESIDENT, "resident"), (who("demo-grid"), "patrol")):
        report = Report(category="0102", title="带照片上报", lon=lon, lat=lat, channel=channel)
        with pytest.raises(ValidationFailed) as refused:
            event_report(actor, report, photos=files)
        assert refused.value.code == code
    assert Event.objects.dangerously_unscoped().count() == before
    assert not EventPhoto.objects.dangerously_unscoped().filter(event__title="带照片上报").exists()


def test_the_patrol_page_with_a_bad_photo_makes_no_event(
    client_as: Any, point: Point, settings: Any
) -> None:
    settings.EVENTS_PHOTO_MAX_BYTES = len(PNG) + 100
    photo = SimpleUploadedFile("big.png", oversized(), content_type="image/png")
    response = client_as("demo-grid").post(
        "/events/report/", public_form(point, title="巡查带大照片", photos=[photo])
    )
    assert response.status_code == 200
    assert not Event.objects.dangerously_unscoped().filter(title="巡查带大照片").exists()
