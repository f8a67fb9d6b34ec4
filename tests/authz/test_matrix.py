"""The authorisation matrix, generated from the routes themselves: every URL pattern and every
operation of the OpenAPI document has an entry (`matrix.py`), and each entry is checked as
anonymous, out of scope, in scope without the role and in scope with it. On a denial: the
status, nothing of the object in the body, nothing changed, nothing enqueued."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.authz import matrix
from tests.authz.matrix import Entry
from tests.authz.objects import MINE, OTHER, Obj

pytestmark = pytest.mark.django_db

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
ENTRIES = [*matrix.API, *matrix.PAGES]


def _patterns(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _patterns(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def test_every_route_has_an_entry() -> None:
    pages = {
        r
        for r in _patterns(get_resolver().url_patterns)
        if not r.startswith(("api/v1/", *matrix.NOT_PAGES_PREFIXES))
    }
    operations = {
        f"{method.upper()} {path}"
        for path, ops in json.loads(OPENAPI.read_text())["paths"].items()
        for method in ops
    }
    have_pages = {e.route for e in matrix.PAGES}
    have_api = {e.id for e in matrix.API}
    assert sorted(pages - have_pages - set(matrix.NOT_PAGES)) == []
    assert sorted(operations - have_api) == []
    assert sorted(have_api - operations) == [], "entries for operations that no longer exist"


# -- running an entry ------------------------------------------------------------------------


def _fingerprint() -> tuple[Any, ...]:
    """What a denied request must not change: the rows and versions of everything it could
    write, and the queue (jobs, notifications)."""
    from django.db.models import Max, Sum

    from wangge.core.models import Grant, Job
    from wangge.events.models import (
        CalendarDay,
        Category,
        Event,
        EventAction,
        EventPhoto,
        Notification,
    )
    from wangge.ledger.models import (
        Building,
        Estate,
        Household,
        LedgerChange,
        Organisation,
        Person,
        RecordMerge,
        Referral,
        Room,
        Thing,
    )
    from wangge.teams.models import Assignment, PartyMember, PartyOrganisation, StaffMember

    parts: list[Any] = []
    for model in (Person, Household, Organisation, Thing, Estate, Building, Room):
        qs = model.objects.dangerously_unscoped()
        parts.append((qs.count(), qs.aggregate(v=Sum("version"))["v"]))
    parts.append(
        RecordMerge.objects.dangerously_unscoped()
        .filter(undone_at__isnull=True)
        .values_list("pk", flat=True)
        .count()
    )
    for model in (LedgerChange, Referral, EventAction, EventPhoto, Notification, Job):
        parts.append(model.objects.dangerously_unscoped().count())
    parts.append(Event.objects.dangerously_unscoped().aggregate(v=Sum("version"), n=Max("id")))
    for model in (StaffMember, Assignment, PartyOrganisation, PartyMember):
        qs = model.objects.dangerously_unscoped()
        parts.append(
            (qs.count(), qs.filter(valid_to__isnull=False).count() if model is Assignment else 0)
        )
    parts.append(list(PartyOrganisation.objects.dangerously_unscoped().values_list("name", "kind")))
    parts.append(list(Category.objects.values_list("code", "active", "handle_limit", "public")))
    parts.append((CalendarDay.objects.count(), Grant.objects.count()))
    from wangge.campaigns.models import Campaign, FieldEdit, Task, TaskAction, TaskAssignee

    tasks = Task.objects.dangerously_unscoped()
    parts.append(
        (
            Campaign.objects.dangerously_unscoped().count(),
            tasks.count(),
            tasks.aggregate(v=Sum("version"))["v"],
            FieldEdit.objects.dangerously_unscoped().filter(status="applied").count(),
            FieldEdit.objects.dangerously_unscoped().count(),
            TaskAssignee.objects.dangerously_unscoped().count(),
            TaskAction.objects.dangerously_unscoped().count(),
        )
    )
    from wangge.linkage.models import Batch, BatchRow, FieldValue, Pair, Source

    parts.append(
        (
            list(Source.objects.dangerously_unscoped().values_list("code", "upper", "lower")),
            Batch.objects.dangerously_unscoped().count(),
            list(
                BatchRow.objects.dangerously_unscoped()
                .order_by("pk")
                .values_list("status", "record_id")
            ),
            list(Pair.objects.dangerously_unscoped().order_by("pk").values_list("status")),
            FieldValue.objects.dangerously_unscoped().count(),
        )
    )
    return tuple(parts)


def _client(username: str | None) -> Client:
    from wangge.core.models import User
    from wangge.core.scope import Scope
    from wangge.core.services import token_create

    if username is None:
        return Client()
    user = User.objects.get(username=username)
    _t, plain = token_create(actor=Scope.system("test"), user=user, name="matrix")
    client = Client(headers={"Authorization": f"Bearer {plain}"})
    client.force_login(user)
    return client


def _path(entry: Entry, obj: Obj | None) -> str:
    params: dict[str, Any] = dict(entry.extra.get("path", {}))
    if entry.params is not None and obj is not None:
        params.update(entry.params(obj))
    if entry.api:
        path = entry.route
        for name, value in params.items():
            path = path.replace("{" + name + "}", str(value))
    else:
        path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(params[m.group(1)]), entry.route)
    query = entry.extra.get("query")
    if query == "locate" and obj is not None:
        from wangge.regions.selectors import interior_point_unscoped

        lon, lat = interior_point_unscoped(str(obj.value))
        query = f"lon={lon}&lat={lat}"
    return f"{path}?{query}" if query else path


def _body(entry: Entry, obj: Obj | None, grid: str) -> Any:
    if entry.body is None:
        return None
    body = entry.body(obj) if obj is not None else entry.body(Obj(grid, ""))
    if entry.extra.get("point") and isinstance(body, dict):
        from wangge.regions.selectors import interior_point_unscoped

        body["lon"], body["lat"] = interior_point_unscoped(grid)
    if isinstance(body, dict) and body.get("grid_code") == MINE:
        body["grid_code"] = grid
    return body


def _upload(kind: str) -> Any:
    if kind == "photo":
        from wangge.events.tests.conftest import tiny_png

        return SimpleUploadedFile("photo.png", tiny_png(), content_type="image/png")
    if kind == "linkage":
        return SimpleUploadedFile("list.csv", "老人姓名,身份证号\n矩阵老人,\n".encode())
    if kind == "people":
        return SimpleUploadedFile(
            "matrix.csv",
            "姓名,身份证号,网格编码\n矩阵导入,11010519491231002X,440704003001001\n".encode(),
        )
    from wangge.core.scope import Scope
    from wangge.teams import roster

    return SimpleUploadedFile("roster.xlsx", roster.template(actor=Scope.system("test")))


def resolve(entry: Entry, grid: str) -> Obj | None:
    return entry.obj(grid) if entry.obj is not None else None


def call(entry: Entry, username: str | None, grid: str, obj: Obj | None) -> Any:
    client = _client(username)
    path = _path(entry, obj)
    body = _body(entry, obj, grid)
    if "upload" in entry.extra:
        name = "files" if entry.extra["upload"] == "photo" else "file"
        return client.post(path, {name: _upload(entry.extra["upload"])})
    method = entry.method.lower()
    if entry.api and body is not None:
        return getattr(client, method)(path, json.dumps(body), content_type="application/json")
    if body is not None:
        return getattr(client, method)(path, body)
    return getattr(client, method)(path)


def _text(response: Any) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def _ok(entry: Entry) -> tuple[int, ...]:
    return entry.ok if isinstance(entry.ok, tuple) else (entry.ok,)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_anonymous(entry: Entry) -> None:
    obj = resolve(entry, MINE)
    before = _fingerprint()
    response = call(entry, None, MINE, obj)
    if entry.public:
        assert response.status_code in _ok(entry)
        return
    if entry.api:
        assert response.status_code == 401, _text(response)[:300]
    else:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    if obj is not None:
        assert obj.marker not in _text(response)
    assert _fingerprint() == before


@pytest.mark.parametrize(
    "entry",
    [e for e in ENTRIES if not e.public and "scopeless" not in e.extra],
    ids=lambda e: e.id,
)
def test_out_of_scope_is_not_found(entry: Entry) -> None:
    obj = resolve(entry, OTHER)
    before = _fingerprint()
    response = call(entry, entry.who, OTHER, obj)
    text = _text(response)
    if entry.obj is not None and entry.params is not None:
        assert response.status_code == 404, text[:300]
    else:
        # A list or a create: nothing from the other street shows, nothing is written there.
        assert response.status_code in {*_ok(entry), 400, 403, 404}, text[:300]
        from tests.authz.objects import person

        assert person(OTHER).marker not in text
    if obj is not None:
        assert obj.marker not in text
    if entry.method != "GET" and "scope_in_rows" not in entry.extra:
        assert _fingerprint() == before


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.denied], ids=lambda e: e.id)
def test_in_scope_without_the_role(entry: Entry) -> None:
    assert entry.denied is not None
    obj = resolve(entry, MINE)
    before = _fingerprint()
    response = call(entry, entry.denied, MINE, obj)
    text = _text(response)
    # A page's form answers a refusal with its message and a redirect back; nothing changes.
    refusals = {403, 404} if entry.api or entry.method == "GET" else {302, 403, 404}
    assert response.status_code in refusals, text[:300]
    if obj is not None:
        assert obj.marker not in text
    assert _fingerprint() == before


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_in_scope_with_the_role(entry: Entry) -> None:
    response = call(entry, entry.who, MINE, resolve(entry, MINE))
    assert response.status_code in _ok(entry), _text(response)[:500]
