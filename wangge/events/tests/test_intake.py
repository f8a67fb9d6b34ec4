"""Intake: idempotency, placing the point (grids, scope, GCJ-02), what each channel files,
duplicate suggestions and merging, the public report and tracking pages, the hotline form,
personal data encrypted at rest, and photos."""

from __future__ import annotations

import base64
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from wangge.core.geo import wgs84_to_gcj02
from wangge.core.models import AuditEntry
from wangge.events.intake import haversine_m
from wangge.events.models import Event, EventPhoto
from wangge.events.tests.conftest import MINE, OTHER, tiny_png

pytestmark = pytest.mark.django_db

NAME, PHONE = "王小明", "13912345678"
ALPHABET = set("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
Point = Callable[[str], tuple[float, float]]


def unscoped() -> Any:
    return Event.objects.dangerously_unscoped()


def shifted(lon: float, lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    dlat = north_m / 111_320.0
    dlon = east_m / (111_320.0 * math.cos(math.radians(lat)))
    return lon + dlon, lat + dlat


def post_event(client: Any, key: str | None = None, **fields: Any) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post("/api/v1/events", fields, content_type="application/json", headers=headers)


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response.json()["code"] == code


# -- idempotency ----------------------------------------------------------------------------------


def test_retries_with_one_idempotency_key_make_one_event(
    api_as: Any, point: Point, user: Any
) -> None:
    lon, lat = point(MINE)
    client = api_as("demo-grid")
    fields = {"category": "0102", "title": "幂等上报", "lon": lon, "lat": lat}
    answers = [post_event(client, "phone-queue-0001", **fields) for _ in range(4)]
    assert [r.status_code for r in answers] == [201, 200, 200, 200]
    bodies = [r.json() for r in answers]
    assert [b["created"] for b in bodies] == [True, False, False, False]
    assert len({b["event"]["id"] for b in bodies}) == 1
    event_id = bodies[0]["event"]["id"]
    uid = user("demo-grid").pk
    assert unscoped().filter(intake_key=f"user:{uid}:phone-queue-0001").count() == 1
    assert list(unscoped().filter(title="幂等上报").values_list("id", flat=True)) == [event_id]
    creates = AuditEntry.objects.filter(action="event.create", object_id=str(event_id))
    assert creates.count() == 1


def test_different_keys_or_no_key_make_separate_events(api_as: Any, point: Point) -> None:
    lon, lat = point(MINE)
    client = api_as("demo-grid")
    keyed: dict[str, Any] = {"category": "0102", "title": "两个键", "lon": lon, "lat": lat}
    first, second = post_event(client, "key-a", **keyed), post_event(client, "key-b", **keyed)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["event"]["id"] != second.json()["event"]["id"]
    assert unscoped().filter(title="两个键").count() == 2
    bare: dict[str, Any] = {"category": "0102", "title": "没有键", "lon": lon, "lat": lat}
    assert [post_event(client, **bare).status_code for _ in range(2)] == [201, 201]
    assert unscoped().filter(title="没有键").count() == 2
    assert not unscoped().filter(title="没有键", intake_key__isnull=False).exists()


def test_one_key_is_per_reporter(api_as: Any, point: Point) -> None:
    lon, lat = point(MINE)
    fields = {"category": "0102", "title": "同键不同人", "lon": lon, "lat": lat}
    grid = post_event(api_as("demo-grid"), "shared-key", **fields)
    community = post_event(api_as("demo-community"), "shared-key", **fields)
    assert (grid.status_code, community.status_code) == (201, 201)
    assert grid.json()["event"]["id"] != community.json()["event"]["id"]


# -- placing the point ----------------------------------------------------------------------------


def test_a_point_outside_every_grid_is_refused(api_as: Any) -> None:
    response = post_event(
        api_as("demo-district"), category="0102", title="界外", lon=100.0, lat=30.0
    )
    assert_error(response, 400, "outside_grids")
    assert not unscoped().filter(title="界外").exists()


def test_a_point_outside_the_reporters_scope_is_refused(api_as: Any, point: Point) -> None:
    lon, lat = point(OTHER)
    response = post_event(api_as("demo-grid"), category="0102", title="越界", lon=lon, lat=lat)
    assert_error(response, 400, "outside_scope")
    assert not unscoped().filter(title="越界").exists()
    # The district may report there.
    ok = post_event(api_as("demo-district"), category="0102", title="越界", lon=lon, lat=lat)
    assert ok.status_code == 201 and ok.json()["event"]["grid_code"] == OTHER


@pytest.mark.parametrize("code", ["9999", "01", ""])
def test_an_unknown_category_is_refused(api_as: Any, point: Point, code: str) -> None:
    lon, lat = point(MINE)
    response = post_event(api_as("demo-grid"), category=code, title="未知类别", lon=lon, lat=lat)
    assert response.status_code in (400, 422), response.content
    if code:
        assert response.json()["code"] == "unknown_category"
    assert not unscoped().filter(title="未知类别").exists()


def test_gcj02_is_converted_to_wgs84(api_as: Any, point: Point) -> None:
    lon, lat = point(MINE)
    glon, glat = (float(v) for v in wgs84_to_gcj02(lon, lat))
    assert haversine_m(lon, lat, glon, glat) > 100  # the offset is real
    response = post_event(
        api_as("demo-grid"), category="0102", title="火星坐标", lon=glon, lat=glat, crs="gcj02"
    )
    assert response.status_code == 201, response.content
    event = unscoped().get(pk=response.json()["event"]["id"])
    assert event.grid_code == MINE
    assert haversine_m(lon, lat, event.lon, event.lat) < 1.0


# -- channels -------------------------------------------------------------------------------------


def test_patrol_is_filed_and_hotline_is_pending_with_a_tracking_code(
    api_as: Any, point: Point
) -> None:
    lon, lat = point(MINE)
    client = api_as("demo-grid")
    patrol = post_event(client, category="0102", title="巡查", lon=lon, lat=lat).json()["event"]
    assert (patrol["channel"], patrol["status"], patrol["tracking_code"]) == (
        "patrol",
        "filed",
        None,
    )
    hotline = post_event(
        client,
        category="0804",
        title="热线",
        lon=lon,
        lat=lat,
        channel="hotline",
        reporter_phone=PHONE,
    ).json()["event"]
    assert (hotline["channel"], hotline["status"]) == ("hotline", "pending")
    code = hotline["tracking_code"]
    assert len(code) == 10 and set(code) <= ALPHABET
    assert unscoped().get(pk=hotline["id"]).tracking_code == code


# -- duplicates and merging -----------------------------------------------------------------------


def test_duplicates_are_suggested_and_can_be_merged(api_as: Any, point: Point) -> None:
    base = shifted(*point(MINE), east_m=7, north_m=-11)
    client = api_as("demo-district")

    def send(title: str, category: str, east: float, north: float) -> dict[str, Any]:
        lon, lat = shifted(*base, east_m=east, north_m=north)
        response = post_event(client, category=category, title=title, lon=lon, lat=lat)
        assert response.status_code == 201, response.content
        return response.json()

    first = send("第一次", "0101", 0, 0)["event"]
    assert first["grid_code"] == MINE
    near = send("二十米", "0101", 12, 16)  # 20 m
    assert first["id"] in [d["id"] for d in near["duplicates"]]
    far = send("一百二十米", "0101", 0, 120)
    assert first["id"] not in [d["id"] for d in far["duplicates"]]
    other_kind = send("另一类", "0103", 12, 16)
    assert first["id"] not in [d["id"] for d in other_kind["duplicates"]]

    second = near["event"]["id"]
    into_itself = client.post(
        f"/api/v1/events/{second}/actions/merge", {"into": second}, content_type="application/json"
    )
    assert_error(into_itself, 400, "invalid_target")
    assert unscoped().get(pk=second).status == "filed"
    merged = client.post(
        f"/api/v1/events/{second}/actions/merge",
        {"into": first["id"]},
        content_type="application/json",
    )
    assert merged.status_code == 200, merged.content
    assert (merged.json()["status"], merged.json()["merged_into"]) == ("merged", first["id"])
    stored = unscoped().get(pk=second)
    assert (stored.status, stored.merged_into_id) == ("merged", first["id"])
    assert unscoped().get(pk=first["id"]).status == "filed"


# -- the public pages -----------------------------------------------------------------------------


def public_form(point: Point, **overrides: str) -> dict[str, str]:
    lon, lat = point(MINE)
    form = {
        "category": "0102",
        "title": "楼下垃圾没人清",
        "description": "已经三天了",
        "lon": str(lon),
        "lat": str(lat),
        "reporter_name": NAME,
        "reporter_phone": PHONE,
        "idempotency_key": "resident-0001",
    }
    return form | overrides


def test_public_report_and_tracking(client_as: Any, point: Point) -> None:
    client = client_as(None)
    response = client.post("/events/public/report/", public_form(point, title="居民上报"))
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == "/events/public/track/"
    code = parse_qs(location.query)["code"][0]
    event = unscoped().get(title="居民上报")
    assert (event.channel, event.status, event.grid_code) == ("resident", "pending", MINE)
    assert event.tracking_code == code and len(code) == 10
    assert event.reporter_id is None
    assert (event.reporter_name, event.reporter_phone) == (NAME, PHONE)

    page = client.get(response["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    assert code in body and "暴露垃圾" in body and 'data-status="pending"' in body
    assert NAME not in body and PHONE not in body and PHONE[-4:] not in body
    # Looking it up again later (lower case, without ?new) shows the same, still no reporter.
    again = client.get(f"/events/public/track/?code={code.lower()}").content.decode()
    assert 'data-status="pending"' in again and NAME not in again and PHONE not in again


def test_public_report_refuses_a_non_public_category(client_as: Any, point: Point) -> None:
    response = client_as(None).post(
        "/events/public/report/", public_form(point, category="0601", title="邻里纠纷上报")
    )
    assert response.status_code == 200
    assert 'class="messages"' in response.content.decode()
    assert "0601" in response.content.decode()
    assert not unscoped().filter(title="邻里纠纷上报").exists()


def test_public_report_twice_with_one_key_is_one_event(client_as: Any, point: Point) -> None:
    form = public_form(point, title="重复提交", idempotency_key="resident-retry-1")
    first = client_as(None).post("/events/public/report/", form)
    second = client_as(None).post("/events/public/report/", form)
    assert first.status_code == second.status_code == 302
    assert unscoped().filter(title="重复提交").count() == 1
    code = unscoped().get(title="重复提交").tracking_code
    assert f"code={code}" in first["Location"] and f"code={code}" in second["Location"]


def test_unknown_tracking_code_shows_nothing(client_as: Any) -> None:
    page = client_as(None).get("/events/public/track/?code=ZZZZZZZZZZ")
    assert page.status_code == 200
    assert "data-status" not in page.content.decode()


def test_reporter_is_encrypted_at_rest(client_as: Any, point: Point) -> None:
    client_as(None).post("/events/public/report/", public_form(point, title="加密存储"))
    event = unscoped().get(title="加密存储")
    assert event.reporter_phone == PHONE  # decrypted through the model
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reporter_phone, reporter_name FROM events_event WHERE id = %s", [event.pk]
        )
        raw_phone, raw_name = cursor.fetchone()
    assert raw_phone and raw_name
    assert PHONE not in str(raw_phone)
    assert NAME not in str(raw_name)


# -- the hotline form -----------------------------------------------------------------------------


def test_hotline_form_registers_a_pending_call(client_as: Any, point: Point) -> None:
    lon, lat = point(MINE)
    response = client_as("demo-district").post(
        "/events/hotline/",
        {
            "channel": "hotline",
            "category": "0804",
            "title": "12345来电",
            "description": "来电反映",
            "lon": str(lon),
            "lat": str(lat),
            "reporter_name": NAME,
            "reporter_phone": PHONE,
            "idempotency_key": "hotline-0001",
        },
    )
    assert response.status_code == 302
    event = unscoped().get(title="12345来电")
    assert response["Location"] == f"/events/{event.pk}/"
    assert (event.channel, event.status, event.grid_code) == ("hotline", "pending", MINE)
    assert event.tracking_code and len(event.tracking_code) == 10
    assert event.reporter_phone == PHONE


# -- photos ---------------------------------------------------------------------------------------


def upload(client: Any, event_id: int, data: bytes, name: str = "photo.png") -> Any:
    return client.post(
        f"/api/v1/events/{event_id}/photos",
        {"files": [SimpleUploadedFile(name, data, content_type="image/png")]},
    )


def test_photos_are_checked_deduplicated_and_encrypted(api_as: Any, report: Any) -> None:
    event = report()
    png = tiny_png()
    client = api_as("demo-grid")
    first = upload(client, event.pk, png)
    assert first.status_code == 201, first.content
    [photo] = first.json()
    assert (photo["content_type"], photo["size"], photo["stage"]) == (
        "image/png",
        len(png),
        "report",
    )

    got = client.get(f"/api/v1/events/{event.pk}/photos/{photo['id']}")
    assert got.status_code == 200
    assert got["Content-Type"] == "image/png" and got.content == png

    again = upload(client, event.pk, png, name="retry.png")
    assert again.status_code == 201 and [p["id"] for p in again.json()] == [photo["id"]]
    assert EventPhoto.objects.dangerously_unscoped().filter(event=event).count() == 1

    text = upload(client, event.pk, b"just some text, not a picture\n", name="fake.jpg")
    assert_error(text, 400, "not_an_image")
    assert EventPhoto.objects.dangerously_unscoped().filter(event=event).count() == 1

    stored = EventPhoto.objects.dangerously_unscoped().get(pk=photo["id"])
    on_disk = (Path(settings.DATA_DIR) / "photos" / stored.path).read_bytes()
    assert on_disk and png not in on_disk and b"IHDR" not in on_disk
    assert base64.b64encode(png) not in on_disk


def test_public_reports_per_address_are_limited(
    client_as: Any, point: Point, settings: Any
) -> None:
    settings.EVENTS_PUBLIC_REPORTS_PER_HOUR = 2
    client = client_as(None)
    for i in range(3):
        client.post(
            "/events/public/report/",
            public_form(point, title=f"限流{i}", idempotency_key=f"limit-{i}"),
        )
    assert unscoped().filter(title__startswith="限流").count() == 2
    refused = client.post(
        "/events/public/report/", public_form(point, title="限流x", idempotency_key="limit-x")
    )
    assert refused.status_code == 200 and 'class="messages"' in refused.content.decode()
    assert not unscoped().filter(title="限流x").exists()


def test_duplicate_suggestions_never_cross_the_reporters_scope(report: Any) -> None:
    from django.utils import timezone

    from wangge.core.models import User
    from wangge.core.scope import scope_for
    from wangge.events.intake import duplicate_candidates, duplicate_candidates_unscoped

    other = report(username="demo-district", grid=OTHER, category="0102")
    args = (other.category_id, other.lon, other.lat)
    grid = scope_for(User.objects.get(username="demo-grid"))
    assert other.pk in [e.pk for e in duplicate_candidates_unscoped(*args, now=timezone.now())]
    found = duplicate_candidates(
        actor=grid, category_id=args[0], lon=args[1], lat=args[2], now=timezone.now()
    )
    assert other.pk not in [e.pk for e in found]


def test_a_garbled_version_on_the_event_page_is_a_message(client_as: Any, report: Any) -> None:
    event = report(category="0101")
    response = client_as("demo-street").post(
        f"/events/{event.pk}/act/dispatch/", {"version": "abc", "department": "chengguan"}
    )
    assert response.status_code == 302
    assert unscoped().get(pk=event.pk).status == "filed"  # nothing done on a garbled guard


def hotline_form(point: Point, **fields: str) -> dict[str, str]:
    lon, lat = point(MINE)
    return {
        "category": "0804",
        "title": "上级交办来电",
        "lon": str(lon),
        "lat": str(lat),
        "idempotency_key": "hotline-assign-1",
    } | fields


def test_hotline_page_never_turns_an_assignment_into_a_call(client_as: Any, point: Point) -> None:
    """A grid leader may report but not assign from above: the page shows intake's refusal
    instead of quietly registering the assignment as a hotline call."""
    from django.utils import translation

    response = client_as("demo-grid").post(
        "/events/hotline/", hotline_form(point, channel="assigned")
    )
    assert response.status_code == 200
    with translation.override(settings.LANGUAGE_CODE):
        expected = translation.gettext("Only a command centre may assign an event from above.")
    assert [m.message for m in response.context["messages"]] == [expected]
    assert not unscoped().filter(title="上级交办来电").exists()


def test_hotline_page_assigns_for_a_command_centre(client_as: Any, point: Point) -> None:
    response = client_as("demo-street").post(
        "/events/hotline/", hotline_form(point, channel="assigned")
    )
    assert response.status_code == 302
    event = unscoped().get(title="上级交办来电")
    assert (event.channel, event.status, event.tier) == ("assigned", "filed", 2)


def test_hotline_page_refuses_a_channel_it_does_not_offer(client_as: Any, point: Point) -> None:
    response = client_as("demo-street").post(
        "/events/hotline/", hotline_form(point, channel="patrol")
    )
    assert response.status_code == 200
    assert 'class="messages"' in response.content.decode()
    assert not unscoped().filter(title="上级交办来电").exists()
