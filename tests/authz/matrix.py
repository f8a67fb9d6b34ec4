"""The authorisation matrix: one entry per page (URL pattern) and per API operation (OpenAPI).

`test_matrix.py` fails when a route has no entry here, and runs each entry four ways:
anonymous; the allowed user on an object outside their scope; a user in scope without the
role; the allowed user in scope. A denial must answer with its status, show nothing of the
object, change nothing and enqueue nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.authz import objects as o
from tests.authz.objects import MINE, Obj

Resolver = Callable[[str], Obj]  # grid code → object (o.person, o.event …)


@dataclass(frozen=True)
class Entry:
    method: str
    route: str  # URL pattern (pages) or OpenAPI path (API)
    who: str  # a user allowed in scope
    ok: int | tuple[int, ...]  # what `who` gets in scope
    obj: Resolver | None = None  # the object the route's parameters name (None: a list)
    params: Callable[[Obj], dict[str, Any]] | None = None  # path parameters from the object
    denied: str | None = None  # a user in scope without the role (None: every role may)
    body: Callable[[Obj], Any] | None = None
    public: bool = False  # anonymous may
    system_only: str = ""  # why there is nothing to check for a user (with the reason)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def api(self) -> bool:
        return self.route.startswith("/api/")

    @property
    def id(self) -> str:
        return f"{self.method} {self.route}"


def _id(name: str) -> Callable[[Obj], dict[str, Any]]:
    return lambda obj: {name: obj.value}


def _photo(obj: Obj) -> dict[str, Any]:
    return {"event_id": obj.value[0], "photo_id": obj.value[1]}


def E(method: str, route: str, who: str, ok: Any, **kw: Any) -> Entry:
    return Entry(method, route, who, ok, **kw)


G, S, C, D, DEPT, AUD = (
    "demo-grid",
    "demo-street",
    "demo-community",
    "demo-district",
    "demo-dept",
    "demo-auditor",
)
PID, HID, OID, TID = _id("person_id"), _id("household_id"), _id("organisation_id"), _id("thing_id")
EID, BID, RID = _id("estate_id"), _id("building_id"), _id("room_id")
V1 = {"version": 1}

API: list[Entry] = [
    # core
    E("GET", "/api/v1/me", AUD, 200),
    E(
        "GET",
        "/api/v1/jobs/{job_id}",
        G,
        200,
        obj=lambda g: o.job("demo-grid" if g == MINE else "demo-district"),
        params=_id("job_id"),
        denied=S,
    ),
    E("GET", "/api/v1/audit", AUD, 200, denied=D),
    # regions
    E("GET", "/api/v1/regions", S, 200),
    E("GET", "/api/v1/regions/{code}", S, 200, obj=o.grid, params=_id("code")),
    E("GET", "/api/v1/locate", S, 200, obj=o.grid, extra={"query": "locate"}),
    E("GET", "/api/v1/grids.geojson", S, 200),
    E("GET", "/api/v1/layers", S, 200),
    E("GET", "/api/v1/layers/{slug}/straddling", S, 200, extra={"path": {"slug": "chengguan"}}),
    # teams
    E("GET", "/api/v1/teams/coverage", S, 200, denied=AUD),
    E("GET", "/api/v1/teams/{grid_code}", G, 200, obj=o.grid, params=_id("grid_code"), denied=AUD),
    E(
        "GET",
        "/api/v1/teams/{grid_code}/history",
        G,
        200,
        obj=o.grid,
        params=_id("grid_code"),
        denied=AUD,
    ),
    E(
        "GET",
        "/api/v1/teams/{grid_code}/leader",
        G,
        200,
        obj=o.grid,
        params=_id("grid_code"),
        denied=AUD,
        extra={"query": "date=2022-04-19"},
    ),
    E(
        "POST",
        "/api/v1/teams/{grid_code}/assignments",
        C,
        201,
        obj=o.grid,
        params=_id("grid_code"),
        denied=G,
        body=lambda obj: {
            "role": "part_time",
            "valid_from": "2026-01-05",
            "staff": {"name": "矩阵新人", "id_number": "11010519491231002X"},
        },
    ),
    E(
        "PUT",
        "/api/v1/teams/{grid_code}/party-organisation",
        C,
        200,
        obj=o.grid,
        params=_id("grid_code"),
        denied=G,
        body=lambda obj: {"kind": "group", "name": "矩阵党小组"},
    ),
    E(
        "POST",
        "/api/v1/assignments/{assignment_id}/end",
        C,
        200,
        obj=o.assignment,
        params=_id("assignment_id"),
        denied=G,
        body=lambda obj: {"valid_to": "2026-06-30"},
    ),
    E("GET", "/api/v1/staff", G, 200, denied=AUD),
    E("GET", "/api/v1/staff/{staff_id}", G, 200, obj=o.staff, params=_id("staff_id"), denied=AUD),
    E(
        "POST",
        "/api/v1/staff/{staff_id}/reveal",
        G,
        200,
        obj=o.staff,
        params=_id("staff_id"),
        denied=AUD,
        body=lambda obj: {"field": "phone", "reason": "矩阵核实"},
    ),
    E("GET", "/api/v1/teams-roster.xlsx", G, 200, denied=AUD),
    E(
        "POST",
        "/api/v1/teams-roster.xlsx",
        G,
        200,
        denied=AUD,
        body=lambda obj: {"reason": "矩阵核对"},
    ),
    E(
        "POST",
        "/api/v1/teams-roster",
        C,
        200,
        denied=G,
        extra={
            "upload": "roster",
            "scope_in_rows": "roster rows outside the importer's scope are rejected row by row (teams/tests/test_roster.py)",
        },
    ),
    # ledger: people and households
    E("GET", "/api/v1/people", G, 200, denied=AUD),
    E(
        "POST",
        "/api/v1/people",
        G,
        201,
        denied=AUD,
        body=lambda obj: {"name": "矩阵新增", "id_number": "11010519491231002X", "grid_code": MINE},
    ),
    E("GET", "/api/v1/people.csv", G, 200, denied=AUD),
    E("POST", "/api/v1/people.csv", G, 200, denied=AUD, body=lambda obj: {"reason": "矩阵导出"}),
    E("GET", "/api/v1/people/{person_id}", G, 200, obj=o.person, params=PID, denied=AUD),
    E(
        "PATCH",
        "/api/v1/people/{person_id}",
        G,
        200,
        obj=o.person,
        params=PID,
        denied=AUD,
        body=lambda obj: {"employer": "矩阵厂", **V1},
    ),
    E("GET", "/api/v1/people/{person_id}/history", G, 200, obj=o.person, params=PID, denied=AUD),
    E(
        "POST",
        "/api/v1/people/{person_id}/move",
        G,
        200,
        obj=o.person,
        params=PID,
        denied=AUD,
        body=lambda obj: {"grid_code": MINE, **V1},
    ),
    E(
        "POST",
        "/api/v1/people/{person_id}/retire",
        G,
        200,
        obj=o.person,
        params=PID,
        denied=AUD,
        body=lambda obj: {"reason": "moved_away", **V1},
    ),
    E(
        "POST",
        "/api/v1/people/{person_id}/restore",
        G,
        400,
        obj=o.person,
        params=PID,
        denied=AUD,
        body=lambda obj: V1,
    ),
    E(
        "POST",
        "/api/v1/people/{person_id}/reveal",
        G,
        200,
        obj=o.person,
        params=PID,
        denied=AUD,
        body=lambda obj: {"field": "phone", "reason": "矩阵核实"},
    ),
    E(
        "POST",
        "/api/v1/households",
        G,
        400,
        obj=o.person,
        denied=AUD,
        body=lambda obj: {"code": "H-MATRIX", "head_id": obj.value},
    ),
    E("GET", "/api/v1/households/{household_id}", G, 200, obj=o.household, params=HID, denied=AUD),
    E(
        "POST",
        "/api/v1/households/{household_id}/members",
        G,
        200,
        obj=o.household,
        params=HID,
        denied=AUD,
        body=lambda obj: {"person_id": o.loner(MINE).value, "relation": "子", **V1},
    ),
    E(
        "POST",
        "/api/v1/households/{household_id}/members/remove",
        G,
        (400, 404),
        obj=o.household,
        params=HID,
        denied=AUD,
        body=lambda obj: {"person_id": 1, **V1},
    ),
    E(
        "POST",
        "/api/v1/households/{household_id}/head",
        G,
        (400, 404),
        obj=o.household,
        params=HID,
        denied=AUD,
        body=lambda obj: {"person_id": 1, **V1},
    ),
    # ledger: organisations
    E("GET", "/api/v1/organisations", G, 200, denied=AUD),
    E(
        "POST",
        "/api/v1/organisations",
        G,
        201,
        denied=AUD,
        body=lambda obj: {"name": "矩阵单位", "kind": "enterprise", "grid_code": MINE},
    ),
    E(
        "GET",
        "/api/v1/organisations/{organisation_id}",
        G,
        200,
        obj=o.organisation,
        params=OID,
        denied=AUD,
    ),
    E(
        "PATCH",
        "/api/v1/organisations/{organisation_id}",
        G,
        200,
        obj=o.organisation,
        params=OID,
        denied=AUD,
        body=lambda obj: {"employees": 9, **V1},
    ),
    E(
        "GET",
        "/api/v1/organisations/{organisation_id}/history",
        G,
        200,
        obj=o.organisation,
        params=OID,
        denied=AUD,
    ),
    E(
        "POST",
        "/api/v1/organisations/{organisation_id}/move",
        G,
        200,
        obj=o.organisation,
        params=OID,
        denied=AUD,
        body=lambda obj: {"grid_code": MINE, **V1},
    ),
    E(
        "POST",
        "/api/v1/organisations/{organisation_id}/retire",
        G,
        200,
        obj=o.organisation,
        params=OID,
        denied=AUD,
        body=lambda obj: {"reason": "closed", **V1},
    ),
    E(
        "POST",
        "/api/v1/organisations/{organisation_id}/restore",
        G,
        400,
        obj=o.organisation,
        params=OID,
        denied=AUD,
        body=lambda obj: V1,
    ),
    # ledger: things (departments see them, do not edit them)
    E("GET", "/api/v1/things", G, 200, denied=AUD),
    E(
        "POST",
        "/api/v1/things",
        G,
        201,
        denied=DEPT,
        body=lambda obj: {"code": "4407040101888888", "name": "矩阵井盖", "lon": 0, "lat": 0},
        extra={"point": True},
    ),
    E("GET", "/api/v1/things/{thing_id}", G, 200, obj=o.thing, params=TID, denied=AUD),
    E(
        "PATCH",
        "/api/v1/things/{thing_id}",
        G,
        200,
        obj=o.thing,
        params=TID,
        denied=DEPT,
        body=lambda obj: {"state": "damaged", **V1},
    ),
    E(
        "POST",
        "/api/v1/things/{thing_id}/move",
        G,
        200,
        obj=o.thing,
        params=TID,
        denied=DEPT,
        body=lambda obj: {"lon": 0, "lat": 0, **V1},
        extra={"point": True},
    ),
    E(
        "POST",
        "/api/v1/things/{thing_id}/retire",
        G,
        200,
        obj=o.thing,
        params=TID,
        denied=DEPT,
        body=lambda obj: {"reason": "removed", **V1},
    ),
    E(
        "POST",
        "/api/v1/things/{thing_id}/restore",
        G,
        400,
        obj=o.thing,
        params=TID,
        denied=DEPT,
        body=lambda obj: V1,
    ),
    # ledger: addresses
    E("GET", "/api/v1/estates", G, 200, denied=AUD),
    E(
        "POST",
        "/api/v1/estates",
        G,
        201,
        denied=AUD,
        body=lambda obj: {"code": MINE[:12] + "999", "name": "矩阵小区", "grid_code": MINE},
    ),
    E("GET", "/api/v1/estates/{estate_id}", G, 200, obj=o.estate, params=EID, denied=AUD),
    E(
        "PATCH",
        "/api/v1/estates/{estate_id}",
        G,
        200,
        obj=o.estate,
        params=EID,
        denied=AUD,
        body=lambda obj: {"name": "改名小区", **V1},
    ),
    E(
        "POST",
        "/api/v1/estates/{estate_id}/buildings",
        G,
        201,
        obj=o.estate,
        params=EID,
        denied=AUD,
        body=lambda obj: {
            "number": "909",
            "building_name": "9栋",
            "address": "矩阵9栋",
            "lon": 0,
            "lat": 0,
        },
        extra={"point": True},
    ),
    E("GET", "/api/v1/buildings/{building_id}", G, 200, obj=o.building, params=BID, denied=AUD),
    E(
        "PATCH",
        "/api/v1/buildings/{building_id}",
        G,
        200,
        obj=o.building,
        params=BID,
        denied=AUD,
        body=lambda obj: {"floors": 7, **V1},
    ),
    E(
        "POST",
        "/api/v1/buildings/{building_id}/rooms",
        G,
        201,
        obj=o.building,
        params=BID,
        denied=AUD,
        body=lambda obj: {"unit": 2, "floor": 5, "number": "502"},
    ),
    E(
        "PATCH",
        "/api/v1/rooms/{room_id}",
        G,
        200,
        obj=o.room,
        params=RID,
        denied=AUD,
        body=lambda obj: {"use": "vacant", **V1},
    ),
    E(
        "POST",
        "/api/v1/addresses/{kind}/{record_id}/retire",
        G,
        200,
        obj=o.room,
        params=lambda obj: {"kind": "room", "record_id": obj.value},
        denied=AUD,
        body=lambda obj: {"reason": "demolished", **V1},
    ),
    E(
        "POST",
        "/api/v1/ledger/merges",
        G,
        201,
        obj=o.merge_pair,
        denied=AUD,
        body=lambda obj: {
            "kind": "person",
            "survivor_id": obj.value[0],
            "merged_id": obj.value[1],
            "reason": "矩阵合并",
        },
    ),
    E(
        "GET",
        "/api/v1/ledger/merges/{merge_id}",
        G,
        200,
        obj=o.merge,
        params=_id("merge_id"),
        denied=AUD,
    ),
    E(
        "POST",
        "/api/v1/ledger/merges/{merge_id}/undo",
        G,
        200,
        obj=o.merge,
        params=_id("merge_id"),
        denied=AUD,
        body=lambda obj: {"reason": "矩阵撤销"},
    ),
    E("GET", "/api/v1/ledger/counts", G, 200, denied=AUD),
    E("GET", "/api/v1/ledger/map.geojson", G, 200, denied=AUD),
    E(
        "POST",
        "/api/v1/ledger/import/{kind}",
        G,
        (200, 202),
        denied=AUD,
        extra={
            "upload": "people",
            "path": {"kind": "people"},
            "scope_in_rows": "rows outside the uploader's scope are rejected row by row "
            "(ledger/tests/test_import.py); the job is queued either way",
        },
    ),
]

# Routes that are not pages of a module, with why they have no entry.
NOT_PAGES: dict[str, str] = {
    "i18n/setlang/": "the language switch: a POST anyone may send, no data",
    "accounts/login/": "the login page itself",
    "accounts/logout/": "logging out: a POST that needs no scope",
}
# Open311 is public by specification and has its own matrix (events/tests/test_open311.py).
NOT_PAGES_PREFIXES = ("open311/",)

GRID = lambda obj: {"code": obj.value}  # noqa: E731 - a table

PAGES: list[Entry] = [
    E("GET", "", AUD, 200),
    E("GET", "audit/", AUD, 200, denied=D),
    E("GET", "audit/export.xlsx", AUD, 200, denied=D),
    E(
        "POST",
        "filters/save/",
        G,
        302,
        denied=AUD,
        body=lambda obj: {"list": "events.inbox", "name": "矩阵筛选", "query": "box=all"},
    ),
    E(
        "POST",
        "filters/<int:filter_id>/delete/",
        G,
        302,
        obj=lambda g: o.saved_filter("demo-grid" if g == MINE else "demo-district"),
        params=_id("filter_id"),
        denied=AUD,
        body=lambda obj: {"list": "events.inbox"},
    ),
    E("GET", "regions/", S, 200),
    E("GET", "regions/map/", S, 200),
    E("GET", "regions/layers/", S, 200),
    E("GET", "regions/layers/<slug:slug>/", S, 200, extra={"path": {"slug": "chengguan"}}),
    E("GET", "regions/<str:code>/", S, 200, obj=o.grid, params=GRID),
    E("GET", "regions/<str:code>/children/", S, 200, obj=lambda g: o.grid(g[:12]), params=GRID),
    E("GET", "teams/", S, 200, denied=AUD),
    E("GET", "teams/staff/", G, 200, denied=AUD),
    E("GET", "teams/staff/export.xlsx", G, 200, denied=AUD),
    E(
        "GET",
        "teams/staff/<int:staff_id>/",
        G,
        200,
        obj=o.staff,
        params=_id("staff_id"),
        denied=AUD,
    ),
    E(
        "POST",
        "teams/staff/<int:staff_id>/reveal/",
        G,
        200,
        obj=o.staff,
        params=_id("staff_id"),
        denied=AUD,
        body=lambda obj: {"field": "phone", "reason": "矩阵核实"},
    ),
    E(
        "POST",
        "teams/assignments/<int:assignment_id>/end/",
        C,
        302,
        obj=o.assignment,
        params=_id("assignment_id"),
        denied=G,
        body=lambda obj: {"valid_to": "2026-06-30"},
    ),
    E("GET", "teams/roster/", G, 200, denied=AUD),
    E("GET", "teams/roster/template.xlsx", G, 200, denied=AUD),
    E("GET", "teams/roster/export.xlsx", G, 200, denied=AUD),
    E(
        "GET",
        "teams/roster/errors.xlsx",
        G,
        404,
        system_only="the uploader's own error file: 404 without one",
    ),
    E("GET", "teams/grid/<str:code>/", G, 200, obj=o.grid, params=GRID, denied=AUD),
    E("GET", "teams/grid/<str:code>/card/", G, 200, obj=o.grid, params=GRID, denied=AUD),
    E("GET", "teams/grid/<str:code>/history/", G, 200, obj=o.grid, params=GRID, denied=AUD),
    E("GET", "ledger/", G, 200, denied=AUD),
    E("GET", "ledger/people/", G, 200, denied=AUD),
    E("GET", "ledger/people/new/", G, 200, denied=AUD),
    E("GET", "ledger/people/export.csv", G, 200, denied=AUD),
    E("GET", "ledger/people/export.xlsx", G, 200, denied=AUD),
    E("GET", "ledger/people/<int:person_id>/", G, 200, obj=o.person, params=PID, denied=AUD),
    E("GET", "ledger/people/<int:person_id>/edit/", G, 200, obj=o.person, params=PID, denied=AUD),
    E(
        "POST",
        "ledger/people/<int:person_id>/edit/",
        G,
        302,
        obj=o.person,
        params=PID,
        denied=AUD,
        body=lambda obj: {"version": "1", "name": "矩阵改名"},
    ),
    E("GET", "ledger/people/<int:person_id>/move/", G, 200, obj=o.person, params=PID, denied=AUD),
    E("GET", "ledger/people/<int:person_id>/retire/", G, 200, obj=o.person, params=PID, denied=AUD),
    E(
        "POST",
        "ledger/people/<int:person_id>/reveal/",
        G,
        200,
        obj=o.person,
        params=PID,
        denied=AUD,
        body=lambda obj: {"field": "phone", "reason": "矩阵核实"},
    ),
    E(
        "POST",
        "ledger/households/new/",
        G,
        302,
        obj=o.grid,
        denied=AUD,
        body=lambda obj: {"code": "H-MATRIX-P", "head_id": str(o.loner(obj.value).value)},
    ),
    E(
        "GET",
        "ledger/households/<int:household_id>/",
        G,
        200,
        obj=o.household,
        params=HID,
        denied=AUD,
    ),
    E("GET", "ledger/referrals/", D, 200, denied=S),
    E(
        "POST",
        "ledger/merges/<int:merge_id>/undo/",
        G,
        302,
        obj=o.merge,
        params=_id("merge_id"),
        denied=AUD,
        body=lambda obj: {"reason": "矩阵撤销"},
    ),
    E("GET", "ledger/organisations/", G, 200, denied=AUD),
    E("GET", "ledger/organisations/export.xlsx", G, 200, denied=AUD),
    E("GET", "ledger/organisations/new/", G, 200, denied=AUD),
    E(
        "POST",
        "ledger/organisations/<int:pk>/reveal/",
        G,
        200,
        obj=o.organisation,
        params=_id("pk"),
        denied=AUD,
        body=lambda obj: {"reason": "矩阵核实"},
    ),
    E(
        "GET",
        "ledger/organisations/<int:pk>/",
        G,
        200,
        obj=o.organisation,
        params=_id("pk"),
        denied=AUD,
    ),
    E(
        "GET",
        "ledger/organisations/<int:pk>/edit/",
        G,
        200,
        obj=o.organisation,
        params=_id("pk"),
        denied=AUD,
    ),
    E(
        "GET",
        "ledger/organisations/<int:pk>/move/",
        G,
        200,
        obj=o.organisation,
        params=_id("pk"),
        denied=AUD,
    ),
    E(
        "GET",
        "ledger/organisations/<int:pk>/retire/",
        G,
        200,
        obj=o.organisation,
        params=_id("pk"),
        denied=AUD,
    ),
    E("GET", "ledger/things/", G, 200, denied=AUD),
    E("GET", "ledger/things/new/", G, 200, denied=DEPT),
    E("GET", "ledger/things/<int:pk>/", G, 200, obj=o.thing, params=_id("pk"), denied=AUD),
    E("GET", "ledger/things/<int:pk>/edit/", G, 200, obj=o.thing, params=_id("pk"), denied=DEPT),
    E("GET", "ledger/things/<int:pk>/move/", G, 200, obj=o.thing, params=_id("pk"), denied=DEPT),
    E("GET", "ledger/things/<int:pk>/retire/", G, 200, obj=o.thing, params=_id("pk"), denied=DEPT),
    E("GET", "ledger/addresses/", G, 200, denied=AUD),
    E("GET", "ledger/addresses/search/", G, 200, denied=AUD, extra={"query": "q=小区"}),
    E("GET", "ledger/estates/new/", G, 200, denied=AUD),
    E(
        "GET",
        "ledger/estates/<int:pk>/buildings/new/",
        G,
        200,
        obj=o.estate,
        params=_id("pk"),
        denied=AUD,
    ),
    E(
        "GET",
        "ledger/buildings/<int:pk>/rooms/new/",
        G,
        200,
        obj=o.building,
        params=_id("pk"),
        denied=AUD,
    ),
    E("GET", "ledger/estates/<int:pk>/", G, 200, obj=o.estate, params=_id("pk"), denied=AUD),
    E("GET", "ledger/estates/<int:pk>/edit/", G, 200, obj=o.estate, params=_id("pk"), denied=AUD),
    E("GET", "ledger/estates/<int:pk>/retire/", G, 200, obj=o.estate, params=_id("pk"), denied=AUD),
    E("GET", "ledger/buildings/<int:pk>/", G, 200, obj=o.building, params=_id("pk"), denied=AUD),
    E(
        "GET",
        "ledger/buildings/<int:pk>/edit/",
        G,
        200,
        obj=o.building,
        params=_id("pk"),
        denied=AUD,
    ),
    E(
        "GET",
        "ledger/buildings/<int:pk>/retire/",
        G,
        200,
        obj=o.building,
        params=_id("pk"),
        denied=AUD,
    ),
    E("GET", "ledger/rooms/<int:pk>/", G, 200, obj=o.room, params=_id("pk"), denied=AUD),
    E("GET", "ledger/rooms/<int:pk>/edit/", G, 200, obj=o.room, params=_id("pk"), denied=AUD),
    E("GET", "ledger/rooms/<int:pk>/retire/", G, 200, obj=o.room, params=_id("pk"), denied=AUD),
    E("GET", "ledger/map/", G, 200, denied=AUD),
    E("GET", "ledger/import/", G, 200, denied=AUD),
    E(
        "GET",
        "ledger/jobs/<int:job_id>/",
        G,
        200,
        obj=lambda g: o.job("demo-grid" if g == MINE else "demo-district"),
        params=_id("job_id"),
        denied=S,
    ),
    E(
        "GET",
        "ledger/jobs/<int:job_id>/errors.xlsx",
        G,
        404,
        obj=lambda g: o.job("demo-grid" if g == MINE else "demo-district"),
        params=_id("job_id"),
        denied=S,
    ),
    E(
        "GET",
        "ledger/templates/<str:kind>.xlsx",
        G,
        200,
        denied=AUD,
        extra={"path": {"kind": "people"}},
    ),
]

SCOPELESS = "configuration or one's own rows: the same for the whole district, no other scope"
EV = _id("event_id")
_PNG = {"upload": "photo"}

API += [
    E("GET", "/api/v1/events", G, 200, denied=AUD),
    E(
        "POST",
        "/api/v1/events",
        G,
        201,
        obj=o.grid,
        denied=AUD,
        body=lambda obj: {"category": "0102", "title": "矩阵上报", "lon": 0, "lat": 0},
        extra={"point": True},
    ),
    E("GET", "/api/v1/events-indicators", G, 200, denied=AUD),
    E("GET", "/api/v1/events.geojson", G, 200, denied=AUD),
    E("GET", "/api/v1/events/{event_id}", G, 200, obj=o.event, params=EV, denied=AUD),
    E(
        "POST",
        "/api/v1/events/{event_id}/actions/{action}",
        S,
        200,
        obj=o.event,
        params=EV,
        denied=G,
        body=lambda obj: {"reason": "矩阵督办"},
        extra={"path": {"action": "supervise"}},
    ),
    E(
        "POST",
        "/api/v1/events/{event_id}/photos",
        G,
        201,
        obj=o.event,
        params=EV,
        denied=AUD,
        extra=_PNG,
    ),
    E(
        "GET",
        "/api/v1/events/{event_id}/photos/{photo_id}",
        G,
        200,
        obj=o.photo,
        params=_photo,
        denied=AUD,
    ),
    E(
        "POST",
        "/api/v1/events/{event_id}/reveal",
        G,
        (200, 400),
        obj=o.event,
        params=EV,
        denied=AUD,
        body=lambda obj: {"field": "reporter_phone", "reason": "矩阵核实"},
    ),
    E("GET", "/api/v1/event-categories", G, 200, denied=AUD, extra={"scopeless": SCOPELESS}),
    E(
        "PATCH",
        "/api/v1/event-categories/{code}",
        D,
        200,
        denied=S,
        body=lambda obj: {"handle_limit": 3},
        extra={"path": {"code": "0102"}, "scopeless": SCOPELESS},
    ),
    E("GET", "/api/v1/notifications", G, 200, denied=AUD, extra={"scopeless": SCOPELESS}),
    E(
        "POST",
        "/api/v1/notifications/read",
        G,
        200,
        denied=AUD,
        body=lambda obj: {},
        extra={"scopeless": SCOPELESS},
    ),
    E(
        "GET",
        "/api/v1/calendar",
        G,
        200,
        denied=AUD,
        extra={"query": "year=2026&month=11", "scopeless": SCOPELESS},
    ),
    E(
        "GET",
        "/api/v1/calendar/deadline",
        G,
        200,
        denied=AUD,
        extra={"query": "amount=1&unit=day", "scopeless": SCOPELESS},
    ),
    E(
        "PUT",
        "/api/v1/calendar/{day}",
        D,
        200,
        denied=S,
        body=lambda obj: {"is_workday": True, "note": "矩阵"},
        extra={"path": {"day": "2026-12-05"}, "scopeless": SCOPELESS},
    ),
]

PAGES += [
    E("GET", "events/", G, 200, denied=AUD),
    E("GET", "events/export.xlsx", G, 200, denied=AUD),
    E("GET", "events/<int:event_id>/", G, 200, obj=o.event, params=EV, denied=AUD),
    E(
        "POST",
        "events/<int:event_id>/act/<str:action>/",
        S,
        302,
        obj=o.event,
        params=EV,
        denied=G,
        body=lambda obj: {"reason": "矩阵督办"},
        extra={"path": {"action": "supervise"}},
    ),
    E(
        "POST",
        "events/<int:event_id>/reveal/",
        G,
        (200, 302),
        obj=o.event,
        params=EV,
        denied=AUD,
        body=lambda obj: {"field": "reporter_phone", "reason": "矩阵核实"},
    ),
    E("GET", "events/report/", G, 200, denied=AUD),
    E("GET", "events/hotline/", G, 200, denied=AUD),
    # A caller's earlier reports: by the phone's blind index, among the events the user may
    # reveal (a list: nothing of another street shows), audited as an exact search.
    E(
        "POST",
        "events/hotline/caller/",
        S,
        200,
        denied=AUD,
        body=lambda obj: {"reporter_phone": "13800138000"},
    ),
    E("GET", "events/public/report/", G, 200, public=True),
    E("GET", "events/public/track/", G, 200, public=True),
    E("GET", "events/public/grids.geojson", G, 200, public=True),
    E("GET", "events/indicators/", G, 200, denied=AUD),
    E("GET", "events/indicators.xlsx", G, 200, denied=AUD),
    E("GET", "events/map/", G, 200, denied=AUD),
    E("GET", "events/notifications/", G, 200, denied=AUD, extra={"scopeless": SCOPELESS}),
    E("GET", "events/calendar/", G, 200, denied=AUD, extra={"scopeless": SCOPELESS}),
    E("GET", "events/categories/", G, 200, denied=AUD, extra={"scopeless": SCOPELESS}),
]

# campaigns: the desktop pages
CAMPAIGN, CTASK = _id("campaign_id"), _id("task_id")


def _new_campaign(obj: Obj) -> dict[str, Any]:
    return {
        "name": "矩阵新专项行动",
        "template": "visit",
        "regions": [obj.value],
        "start": "2026-01-05",
        "end": "2099-12-31",
    }


PAGES += [
    E("GET", "campaigns/", S, 200, denied=DEPT),
    E("GET", "campaigns/new/", S, 200, denied=G),
    E("POST", "campaigns/new/", S, 302, obj=o.grid, denied=G, body=_new_campaign),
    E("GET", "campaigns/priority/", S, 200, denied=G, extra={"query": "reasons=alone"}),
    E(
        "POST",
        "campaigns/priority/",
        S,
        302,
        obj=o.grid,
        denied=G,
        body=lambda obj: {"regions": [obj.value], "reasons": ["alone", "aged_80"]},
    ),
    E("GET", "campaigns/<int:campaign_id>/", G, 200, obj=o.campaign, params=CAMPAIGN, denied=DEPT),
    E(
        "POST",
        "campaigns/<int:campaign_id>/close/",
        S,
        302,
        obj=o.campaign,
        params=CAMPAIGN,
        denied=G,
        body=lambda obj: {},
    ),
    E(
        "GET",
        "campaigns/<int:campaign_id>/quality/",
        G,
        200,
        obj=o.campaign,
        params=CAMPAIGN,
        denied=DEPT,
    ),
    E(
        "GET",
        "campaigns/<int:campaign_id>/report.xlsx",
        G,
        200,
        obj=o.campaign,
        params=CAMPAIGN,
        denied=DEPT,
    ),
    E(
        "GET",
        "campaigns/tasks/<int:task_id>/",
        G,
        200,
        obj=o.campaign_task,
        params=CTASK,
        denied=DEPT,
    ),
    E(
        "POST",
        "campaigns/tasks/<int:task_id>/act/<str:action>/",
        C,
        302,
        obj=o.campaign_task,
        params=CTASK,
        denied=G,
        body=lambda obj: {"username": "demo-auditor", "role": "helper"},
        extra={"path": {"action": "assign"}},
    ),
    E(
        "GET",
        "campaigns/tasks/<int:task_id>/visit-sheet/",
        G,
        200,
        obj=o.campaign_task,
        params=CTASK,
        denied=DEPT,
    ),
    E(
        "POST",
        "campaigns/conflicts/<int:edit_id>/resolve/",
        C,
        302,
        obj=o.campaign_conflict_edit,
        params=_id("edit_id"),
        denied=G,
        body=lambda obj: {"choice": "server"},
    ),
]

# -- campaigns: the API and the phone's pages --------------------------------------------------

CID, KID = _id("campaign_id"), _id("task_id")


def _conflict(obj: Obj) -> dict[str, Any]:
    return {"task_id": obj.value[0], "edit_id": obj.value[1]}


def _new_campaign(obj: Obj) -> dict[str, Any]:
    import datetime as dt

    from django.utils import timezone

    today = timezone.localdate()
    return {
        "name": "矩阵新专项",
        "template": "basic",
        "regions": [obj.value],
        "start": today.isoformat(),
        "end": (today + dt.timedelta(days=5)).isoformat(),
    }


API += [
    E("GET", "/api/v1/campaigns", G, 200, denied=AUD),
    E("POST", "/api/v1/campaigns", S, 201, obj=o.grid, denied=G, body=_new_campaign),
    E("GET", "/api/v1/campaigns/{campaign_id}", G, 200, obj=o.campaign, params=CID, denied=DEPT),
    E(
        "GET",
        "/api/v1/campaigns/{campaign_id}/tasks",
        G,
        200,
        obj=o.campaign,
        params=CID,
        denied=DEPT,
    ),
    E(
        "GET",
        "/api/v1/campaigns/{campaign_id}/progress",
        S,
        200,
        obj=o.campaign,
        params=CID,
        denied=DEPT,
    ),
    E(
        "GET",
        "/api/v1/campaigns/{campaign_id}/quality",
        S,
        200,
        obj=o.campaign,
        params=CID,
        denied=DEPT,
    ),
    E("GET", "/api/v1/campaign-tasks/mine", G, 200, extra={"scopeless": SCOPELESS}),
    E(
        "GET",
        "/api/v1/campaign-tasks/{task_id}",
        G,
        200,
        obj=o.campaign_task,
        params=KID,
        denied=DEPT,
    ),
    E(
        "GET",
        "/api/v1/campaign-tasks/{task_id}/package",
        G,
        200,
        obj=o.campaign_task,
        params=KID,
        denied=DEPT,
    ),
    E(
        "POST",
        "/api/v1/campaign-tasks/{task_id}/edits",
        G,
        200,
        obj=o.campaign_task,
        params=KID,
        denied=DEPT,
        body=lambda obj: {"edits": [o.campaign_confirm(obj.value)]},
    ),
    E(
        "POST",
        "/api/v1/campaign-tasks/{task_id}/actions/{action}",
        G,
        200,
        obj=o.campaign_task,
        params=KID,
        denied=DEPT,
        body=lambda obj: {},
        extra={"path": {"action": "start"}},
    ),
    E(
        "POST",
        "/api/v1/campaign-tasks/{task_id}/assignees",
        S,
        201,
        obj=o.campaign_task,
        params=KID,
        denied=G,
        body=lambda obj: {"username": "demo-dept"},
    ),
    E(
        "GET",
        "/api/v1/campaign-tasks/{task_id}/conflicts",
        C,
        200,
        obj=o.campaign_task,
        params=KID,
        denied=DEPT,
    ),
    E(
        "POST",
        "/api/v1/campaign-tasks/{task_id}/conflicts/{edit_id}/resolve",
        C,
        200,
        obj=o.campaign_conflict,
        params=_conflict,
        denied=G,
        body=lambda obj: {"choice": "server"},
    ),
]

PAGES += [
    E("GET", "sw.js", G, 200, public=True),
    # Operations (core/health.py, core/metrics.py): no login by design and nothing personal;
    # /healthz is 503 while no worker beats (none does in the tests); /metrics answers this
    # machine (the test client's 127.0.0.1) or a token: core/tests/test_operations.py.
    E("GET", "healthz", G, (200, 503), public=True),
    E("GET", "metrics", G, 200, public=True),
    E("GET", "favicon.ico", G, 302, public=True),
    E("GET", "campaigns/my/", G, 200, extra={"scopeless": SCOPELESS}),
    E("GET", "campaigns/my/<int:task_id>/", G, 200, obj=o.campaign_task, params=KID, denied=DEPT),
    E(
        "GET",
        "campaigns/device-key",
        G,
        200,
        extra={"scopeless": "a random key for the session's own phone storage: no data"},
    ),
]

# dashboard: every panel is a list over the actor's scope (the out-of-scope region is refused
# by `parent`: wangge/dashboard/tests/test_scope.py)
API += [
    E("GET", f"/api/v1/dashboard/{panel}", G, 200, denied=AUD)
    for panel in (
        "summary",
        "map",
        "indicators",
        "trend",
        "categories",
        "channels",
        "departments",
        "ageing",
        "rankings",
        "regions",
    )
]
PAGES += [
    E("GET", "dashboard/", S, 200, denied=AUD),
    E("GET", "dashboard/screen/", S, 200, denied=AUD),
]
PAGES += [
    E("GET", "dashboard/briefing/", S, 200, denied=AUD),
    E("GET", "dashboard/briefing.pdf", S, 200, denied=AUD),
    E(
        "GET",
        "dashboard/<dashboard_panel:panel>.xlsx",
        S,
        200,
        denied=AUD,
        extra={"path": {"panel": "rankings"}},
    ),
]

# restructure: district administrators only (everyone else: 404). The POST is the dry run (it
# writes nothing); the confirmation's effects are tested in wangge/restructure/tests.
PAGES += [
    E("GET", "restructure/", D, 200, denied=S),
    E(
        "POST",
        "restructure/",
        D,
        200,
        denied=S,
        body=lambda obj: {"op": "recode", "grids": obj.value, "name": "矩阵更名网格"},
    ),
]

# linkage: lists and uploads are the district centre's (district-wide, so no other scope to
# try); the review queue is each reviewer's grids; provenance follows the record.
DISTRICT_WIDE = "a department list belongs to the whole district: no other scope to try"
LIST = {"scopeless": DISTRICT_WIDE}
LCODE, LBATCH, LPAIR = _id("code"), _id("batch_id"), _id("pair_id")


def provenance_params(obj: Obj) -> dict[str, Any]:
    return {"kind": "people", "record_id": obj.value}


# The district's own basemap (a file of map tiles, no personal data): every map, the
# residents' too, so anyone may; a tile outside the file is 204.
PAGES += [
    E(
        "GET",
        "regions/tiles/<int:z>/<int:x>/<int:y>",
        G,
        204,
        public=True,
        extra={"path": {"z": 12, "x": 3340, "y": 1780}},
    ),
]

PAGES += [
    E("GET", "linkage/", C, 200, denied=G),
    E("GET", "linkage/upload/", D, 200, denied=S, extra=LIST),
    E("POST", "linkage/upload/", D, 400, denied=S, extra=LIST, body=lambda obj: {"code": "x"}),
    E(
        "GET",
        "linkage/sources/<slug:code>/",
        D,
        200,
        obj=o.linkage_source,
        params=LCODE,
        denied=S,
        extra=LIST,
    ),
    E(
        "POST",
        "linkage/sources/<slug:code>/",
        D,
        302,
        obj=o.linkage_source,
        params=LCODE,
        denied=S,
        extra=LIST,
        body=lambda obj: {"upper": "0.95", "lower": "0.5"},
    ),
    E(
        "GET",
        "linkage/batches/<int:batch_id>/",
        D,
        200,
        obj=o.linkage_batch,
        params=LBATCH,
        denied=S,
        extra=LIST,
    ),
    E(
        "POST",
        "linkage/batches/<int:batch_id>/run/",
        D,
        302,
        obj=o.linkage_batch,
        params=LBATCH,
        denied=S,
        extra=LIST,
    ),
    E("GET", "linkage/review/", C, 200, denied=G),
    E("GET", "linkage/pairs/<int:pair_id>/", C, 200, obj=o.linkage_pair, params=LPAIR, denied=G),
    E(
        "POST",
        "linkage/pairs/<int:pair_id>/",
        C,
        302,
        obj=o.linkage_pair,
        params=LPAIR,
        denied=G,
        body=lambda obj: {"decision": "unsure"},
    ),
    E(
        "GET",
        "linkage/<str:kind>/<int:record_id>/",
        G,
        200,
        obj=o.person,
        params=provenance_params,
        denied=DEPT,
    ),
]
API += [
    E("GET", "/api/v1/linkage/sources", D, 200, denied=S, extra=LIST),
    E(
        "POST",
        "/api/v1/linkage/sources",
        D,
        200,
        denied=S,
        extra=LIST,
        body=lambda obj: {"code": "matrix-new", "kind": "people", "name": "矩阵新名单"},
    ),
    E(
        "POST",
        "/api/v1/linkage/sources/{code}/batches",
        D,
        201,
        obj=o.linkage_source,
        params=LCODE,
        denied=S,
        extra={**LIST, "upload": "linkage"},
    ),
    E(
        "GET",
        "/api/v1/linkage/batches/{batch_id}",
        D,
        200,
        obj=o.linkage_batch,
        params=LBATCH,
        denied=S,
        extra=LIST,
    ),
    E(
        "GET",
        "/api/v1/linkage/batches/{batch_id}/rows",
        D,
        200,
        obj=o.linkage_batch,
        params=LBATCH,
        denied=S,
        extra=LIST,
    ),
    E(
        "POST",
        "/api/v1/linkage/batches/{batch_id}/run",
        D,
        202,
        obj=o.linkage_batch,
        params=LBATCH,
        denied=S,
        extra=LIST,
    ),
    E("GET", "/api/v1/linkage/pairs", C, 200, denied=G),
    E("GET", "/api/v1/linkage/pairs/{pair_id}", C, 200, obj=o.linkage_pair, params=LPAIR, denied=G),
    E(
        "POST",
        "/api/v1/linkage/pairs/{pair_id}/decision",
        C,
        200,
        obj=o.linkage_pair,
        params=LPAIR,
        denied=G,
        body=lambda obj: {"decision": "unsure"},
    ),
    E(
        "POST",
        "/api/v1/linkage/duplicates",
        C,
        200,
        obj=o.grid,
        denied=G,
        body=lambda obj: {"region_code": str(obj.value)[:12]},
    ),
    E(
        "GET",
        "/api/v1/linkage/records/{kind}/{record_id}/provenance",
        G,
        200,
        obj=o.person,
        params=provenance_params,
        denied=DEPT,
    ),
]
