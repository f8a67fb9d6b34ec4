"""Restructuring grids on the test world: each operation's dry run counts exactly what its apply
moves, records follow their location, open events move and closed ones keep their code, the
old codes answer history, everything is audited, and only district administrators may."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from wangge.core.errors import NotFound, ValidationFailed
from wangge.core.models import AuditEntry, User
from wangge.core.scope import Scope, scope_for
from wangge.events.models import OPEN_STATUSES, Event, EventAction
from wangge.events.tests.factories import history
from wangge.ledger.models import LedgerChange, Person, Thing
from wangge.ledger.tests import factories as lf
from wangge.regions.models import Boundary, Region, Succession
from wangge.regions.selectors import grid_history
from wangge.regions.tests.factories import box
from wangge.restructure.services import Report, restructure
from wangge.teams.models import Assignment, PartyOrganisation, Team, TeamRole

pytestmark = pytest.mark.django_db

SYSTEM = Scope.system("test-restructure")
MINE = "440704003001001"  # 英南村第1网格: x 113.20–113.21, y 22.51–22.52
FIFTH = "440704003001005"  # 英南村第5网格, on the border with 南村
YINGNAN, NANCUN = "440704003001", "440704003002"
EFFECTIVE = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def backdated() -> None:
    """The test world's regions as if imported in 2020, so that a restructure can take effect
    in 2026 and history can be asked about 2022."""
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    Region.objects.dangerously_unscoped().update(valid_from=start)
    Boundary.objects.dangerously_unscoped().update(valid_from=start)


def admin() -> Scope:
    return scope_for(User.objects.get(username="demo-district"))


def moved(report: Report, module: str) -> dict[str, dict[str, int]]:
    return report.as_dict()["modules"][module]["moved"]


def on_grid(model: Any, code: str, **filters: Any) -> int:
    return model.objects.dangerously_unscoped().filter(grid_code=code, **filters).count()


def ledger_counts(code: str) -> dict[str, int]:
    from wangge.ledger.services.regrid import KINDS

    return {
        kind: n for kind, model, _c, _d in KINDS if (n := on_grid(model, code, retired_on=None))
    }


# -- move --------------------------------------------------------------------------------------


def test_move_dry_run_counts_what_apply_moves() -> None:
    before = ledger_counts(FIFTH)
    open_events = on_grid(Event, FIFTH, status__in=OPEN_STATUSES)

    dry = restructure(actor=admin(), operation="move", grids=[FIFTH], community=NANCUN)

    new = "440704003002003"  # 南村 has grids 001 and 002: the next free code
    assert dry.ok and not dry.applied
    assert {k: v[new] for k, v in moved(dry, "ledger").items()} == before
    assert moved(dry, "events") == {"event": {new: open_events}}
    assert not Region.objects.dangerously_unscoped().filter(code=new).exists()
    assert ledger_counts(FIFTH) == before  # a dry run writes nothing

    done = restructure(
        actor=admin(),
        operation="move",
        grids=[FIFTH],
        community=NANCUN,
        effective=EFFECTIVE,
        apply=True,
    )

    assert done.applied and done.as_dict()["modules"] == dry.as_dict()["modules"]
    assert ledger_counts(new) == before and ledger_counts(FIFTH) == {}
    grid = Region.objects.dangerously_unscoped().get(code=new)
    assert (grid.parent.code, grid.name, grid.valid_from) == (NANCUN, "英南村第5网格", EFFECTIVE)
    old = Region.objects.dangerously_unscoped().get(code=FIFTH)
    assert old.valid_to == EFFECTIVE
    assert not Boundary.objects.dangerously_unscoped().filter(region=old, valid_to=None).exists()
    # Both communities got a new boundary version; the old one is kept.
    for community in (YINGNAN, NANCUN):
        versions = Boundary.objects.dangerously_unscoped().filter(region__code=community)
        assert versions.count() == 2
        assert versions.get(valid_to=None).valid_from == EFFECTIVE
    # The team moved: the old assignments closed on the day, the same people on the new team.
    closed = Assignment.objects.dangerously_unscoped().filter(grid_code=FIFTH)
    assert {a.valid_to for a in closed} == {EFFECTIVE.date()}
    opened = Assignment.objects.dangerously_unscoped().filter(grid_code=new, valid_to=None)
    assert sorted(opened.values_list("staff_id", "role")) == sorted(
        closed.values_list("staff_id", "role")
    )
    assert Team.objects.dangerously_unscoped().filter(grid_code=new).exists()


def test_move_across_streets_reshapes_both_streets() -> None:
    masan = "440704002001"  # 麻三村, 外海街道, borders 英南村第1网格 on the west
    report = restructure(actor=admin(), operation="move", grids=[MINE], community=masan, apply=True)
    assert report.applied
    changed = {r["code"] for r in report.as_dict()["regions"]["changed"]}
    assert changed == {YINGNAN, masan, "440704003", "440704002"}  # not the district
    new = "440704002001001"  # 麻三村 has grids 004–006: 001 was never used
    assert (
        ledger_counts(new)
        and Region.objects.dangerously_unscoped().get(code=new).parent.code == masan
    )
    from wangge.regions.services import grids_check

    assert grids_check().ok  # the stored network still tessellates


def test_move_takes_open_events_and_leaves_closed_ones() -> None:
    history([FIFTH], n=40, start=dt.datetime(2026, 1, 5, tzinfo=dt.UTC), days=60)
    events = Event.objects.dangerously_unscoped()
    open_ids = set(
        events.filter(grid_code=FIFTH, status__in=OPEN_STATUSES).values_list("pk", flat=True)
    )
    final_ids = set(events.filter(grid_code=FIFTH).values_list("pk", flat=True)) - open_ids
    assert open_ids and final_ids
    stamps = dict(events.filter(pk__in=open_ids).values_list("pk", "updated_at"))

    report = restructure(
        actor=admin(), operation="move", grids=[FIFTH], community=NANCUN, apply=True
    )

    new = "440704003002003"
    assert report.as_dict()["modules"]["events"]["moved"] == {"event": {new: len(open_ids)}}
    assert set(events.filter(grid_code=new).values_list("pk", flat=True)) == open_ids
    assert set(events.filter(grid_code=FIFTH).values_list("pk", flat=True)) == final_ids
    # updated_at moves, so the dashboard's facts follow at their next refresh.
    for pk, updated in events.filter(pk__in=open_ids).values_list("pk", "updated_at"):
        assert updated > stamps[pk]
    log = EventAction.objects.dangerously_unscoped().filter(action="regrid")
    assert set(log.values_list("event_id", flat=True)) == open_ids
    assert log.first().details["to"] == new


def test_move_is_audited() -> None:
    seq = AuditEntry.objects.count()
    report = restructure(
        actor=admin(), operation="move", grids=[FIFTH], community=NANCUN, apply=True
    )
    batch = report.as_dict()["batch"]
    entries = AuditEntry.objects.filter(seq__gt=seq)
    actions = set(entries.values_list("action", flat=True))
    assert {
        "region.close",
        "region.create",
        "region.update",
        "ledger.regrid",
        "teams.regrid",
        "events.regrid",
        "campaigns.regrid",
        "regions.restructure",
    } <= actions
    summary = entries.get(action="regions.restructure")
    assert (summary.object_id, summary.actor_name) == (batch, "demo-district")
    assert summary.details["moved"]["ledger"]["person"] == {"440704003002003": 3}
    person_ids = entries.get(action="ledger.regrid").details["moved"]["person"]["440704003002003"]
    assert sorted(person_ids) == sorted(
        Person.objects.dangerously_unscoped()
        .filter(grid_code="440704003002003")
        .values_list("pk", flat=True)
    )
    # Each moved record's own history says so, with a new version.
    change = LedgerChange.objects.dangerously_unscoped().get(
        kind="person", record_id=person_ids[0], action="regrid"
    )
    assert change.fields == ["grid_code"] and change.grid_code == "440704003002003"


# -- history -----------------------------------------------------------------------------------


def test_old_code_answers_history_before_the_change() -> None:
    restructure(
        actor=admin(),
        operation="move",
        grids=[FIFTH],
        community=NANCUN,
        effective=EFFECTIVE,
        apply=True,
    )
    before = grid_history(actor=admin(), code=FIFTH, on=dt.date(2022, 4, 19))
    assert before["existed"] and before["name"] == "英南村第5网格"
    assert before["boundary"]["valid_to"] == EFFECTIVE.isoformat()
    assert [b["code"] for b in before["became"]] == ["440704003002003"]
    assert before["now"] == ["440704003002003"]
    after = grid_history(actor=admin(), code=FIFTH, on=dt.date(2026, 6, 2))
    assert not after["existed"] and after["boundary"] is None
    new = grid_history(actor=admin(), code="440704003002003", on=dt.date(2022, 4, 19))
    assert not new["existed"] and [c["code"] for c in new["came_from"]] == [FIFTH]


def test_history_cli(capsys: Any) -> None:
    restructure(
        actor=admin(),
        operation="recode",
        grids=[FIFTH],
        name="英南新村网格",
        effective=EFFECTIVE,
        apply=True,
    )
    call_command("grids", "history", FIFTH, "--on", "2022-04-19", "--json")
    data = json.loads(capsys.readouterr().out)
    assert (data["existed"], data["name"], data["name_now"]) == (
        True,
        "英南村第5网格",
        "英南新村网格",
    )
    call_command("grids", "history", FIFTH, "--on", "2026-06-02")
    assert "英南新村网格" in capsys.readouterr().out


def test_history_of_an_unknown_code_is_not_found() -> None:
    with pytest.raises(NotFound):
        grid_history(actor=admin(), code="440704009009009", on=dt.date(2022, 4, 19))
    street = scope_for(User.objects.get(username="demo-street"))
    with pytest.raises(NotFound):  # 江南街道 is outside 礼乐街道
        grid_history(actor=street, code="440704001001001", on=dt.date(2022, 4, 19))


# -- recode ------------------------------------------------------------------------------------


def test_recode_moves_everything_to_the_new_code() -> None:
    before = ledger_counts(FIFTH)
    report = restructure(
        actor=admin(), operation="recode", grids=[FIFTH], code="440704003001009", apply=True
    )
    assert report.applied
    assert ledger_counts("440704003001009") == before
    succession = Succession.objects.dangerously_unscoped().get(old_code=FIFTH)
    assert (succession.new_code, succession.share, succession.operation) == (
        "440704003001009",
        1.0,
        "recode",
    )


def test_rename_keeps_the_code_and_moves_nothing() -> None:
    report = restructure(
        actor=admin(), operation="recode", grids=[FIFTH], name="滨江网格", apply=True
    )
    data = report.as_dict()
    assert data["applied"] and all(m["total"] == 0 for m in data["modules"].values())
    region = Region.objects.dangerously_unscoped().get(code=FIFTH)
    assert (region.name, region.valid_to) == ("滨江网格", None)


# -- merge -------------------------------------------------------------------------------------


def test_merge_into_the_first_grid() -> None:
    second = "440704003001002"
    before = ledger_counts(second)
    leaders = dict(
        Assignment.objects.dangerously_unscoped()
        .filter(grid_code__in=[MINE, second], role=TeamRole.LEADER, valid_to=None)
        .values_list("grid_code", "staff_id")
    )

    dry = restructure(actor=admin(), operation="merge", grids=[MINE, second])
    done = restructure(
        actor=admin(), operation="merge", grids=[MINE, second], effective=EFFECTIVE, apply=True
    )

    assert dry.as_dict()["modules"] == done.as_dict()["modules"]
    assert {k: v[MINE] for k, v in moved(done, "ledger").items()} == before
    assert ledger_counts(second) == {}
    assert Region.objects.dangerously_unscoped().get(code=second).valid_to == EFFECTIVE
    union = Boundary.objects.dangerously_unscoped().get(region__code=MINE, valid_to=None)
    assert union.valid_from == EFFECTIVE
    assert (union.min_lon, union.max_lon) == (pytest.approx(113.20), pytest.approx(113.22))
    # One leader: MINE's own; the second grid's leader joins as a full-time worker.
    current = Assignment.objects.dangerously_unscoped().filter(grid_code=MINE, valid_to=None)
    assert list(current.filter(role=TeamRole.LEADER).values_list("staff_id", flat=True)) == [
        leaders[MINE]
    ]
    assert current.filter(staff_id=leaders[second], role=TeamRole.FULL_TIME).exists()
    assert any("full-time" in n or "专职" in n for n in done.as_dict()["modules"]["teams"]["notes"])
    # The party organisation of MINE stays; history keeps the second code answerable.
    assert PartyOrganisation.objects.dangerously_unscoped().filter(grid_code=MINE).count() == 1
    past = grid_history(actor=admin(), code=second, on=dt.date(2022, 4, 19))
    assert past["existed"] and past["now"] == [MINE]


def test_merge_refuses_grids_that_do_not_touch() -> None:
    report = restructure(actor=admin(), operation="merge", grids=[MINE, FIFTH])
    assert [p.kind for p in report.problems] == ["not_adjacent"]
    with pytest.raises(ValidationFailed):
        restructure(actor=admin(), operation="merge", grids=[MINE])


# -- split -------------------------------------------------------------------------------------


def _halves(east_code: str = "440704003001006", cut: float = 0.5) -> bytes:
    """MINE cut at `cut` of its width: the west half keeps the code, the east is new."""
    b = Boundary.objects.dangerously_unscoped().get(region__code=MINE, valid_to=None)
    middle = b.min_lon + (b.max_lon - b.min_lon) * cut
    features = [
        {
            "type": "Feature",
            "properties": {"code": MINE, "name": "英南村第1网格"},
            "geometry": box(b.min_lon, b.min_lat, middle, b.max_lat),
        },
        {
            "type": "Feature",
            "properties": {"code": east_code, "name": "英南村第6网格"},
            "geometry": box(middle, b.min_lat, b.max_lon, b.max_lat),
        },
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def test_split_places_records_by_their_address() -> None:
    estate = lf.EstateFactory.create(grid_code=MINE, code=f"{MINE[:12]}901", name="东半小区")
    building = lf.BuildingFactory.create(estate=estate, code="001", lon=113.2075, lat=22.515)
    room = lf.RoomFactory.create(building=building, number="101")
    resident = lf.PersonFactory.create(grid_code=MINE, room=room)
    kiosk = lf.ThingFactory.create(grid_code=MINE, lon=113.2075, lat=22.515)
    east = "440704003001006"

    dry = restructure(actor=admin(), operation="split", grids=[MINE], pieces=_halves())

    # Staff, party members and people without an address cannot be placed by location.
    assert not dry.ok and dry.problems == []
    kinds = {u["kind"] for u in dry.unplaced}
    assert {"person", "staff"} <= kinds
    refused = restructure(
        actor=admin(), operation="split", grids=[MINE], pieces=_halves(), apply=True
    )
    assert not refused.applied and len(refused.unplaced) == len(dry.unplaced)
    assert Person.objects.dangerously_unscoped().get(pk=resident.pk).grid_code == MINE

    done = restructure(
        actor=admin(),
        operation="split",
        grids=[MINE],
        pieces=_halves(),
        default=MINE,
        mapping=f"kind,id,grid\nthing,{kiosk.pk},{MINE}\n",
        apply=True,
    )

    assert done.applied
    # What the report says moved is what is now on the new grid (nothing was there before).
    assert ledger_counts(east) == {k: v[east] for k, v in moved(done, "ledger").items()}
    assert ledger_counts(east)["estate"] == 1  # 东半小区, by its building
    assert Person.objects.dangerously_unscoped().get(pk=resident.pk).grid_code == east
    assert Thing.objects.dangerously_unscoped().get(pk=kiosk.pk).grid_code == MINE  # mapped
    assert moved(done, "ledger")["person"] == {east: 1}
    assert Region.objects.dangerously_unscoped().get(code=MINE).valid_to is None
    shares = dict(
        Succession.objects.dangerously_unscoped()
        .filter(old_code=MINE)
        .values_list("new_code", "share")
    )
    assert shares == {east: pytest.approx(0.5, abs=0.01)}


def test_split_pieces_must_cover_the_grid() -> None:
    doc = json.loads(_halves())
    doc["features"][1]["geometry"]["coordinates"][0][1][0] -= 0.001  # the east edge pulled in
    doc["features"][1]["geometry"]["coordinates"][0][2][0] -= 0.001
    report = restructure(
        actor=admin(), operation="split", grids=[MINE], pieces=json.dumps(doc).encode()
    )
    assert "pieces_do_not_cover" in [p.kind for p in report.problems]
    used = restructure(
        actor=admin(), operation="split", grids=[MINE], pieces=_halves("440704003001002")
    )
    assert "code_used" in [p.kind for p in used.problems]


# -- who may -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "username", ["demo-street", "demo-community", "demo-grid", "demo-dept", "demo-auditor"]
)
def test_only_district_admins_may(username: str) -> None:
    actor = scope_for(User.objects.get(username=username))
    before = AuditEntry.objects.count()
    with pytest.raises(NotFound):
        restructure(actor=actor, operation="move", grids=[FIFTH], community=NANCUN)
    with pytest.raises(NotFound):
        restructure(actor=actor, operation="move", grids=[FIFTH], community=NANCUN, apply=True)
    assert AuditEntry.objects.count() == before
    assert Region.objects.dangerously_unscoped().get(code=FIFTH).valid_to is None


def test_each_module_checks_the_permission_itself() -> None:
    from wangge.events import services as events
    from wangge.ledger import services as ledger
    from wangge.regions.services import restructure_plan
    from wangge.teams import services as teams

    plan = restructure_plan(actor=SYSTEM, operation="move", grids=[FIFTH], community=NANCUN)
    street = scope_for(User.objects.get(username="demo-street"))
    for regrid in (ledger.regrid, teams.regrid, events.regrid):
        with pytest.raises(NotFound):
            regrid(actor=street, plan=plan, apply=True)
    assert on_grid(Person, FIFTH) == 3


def test_an_admin_of_another_district_gets_not_found() -> None:
    from wangge.core.roles import Role
    from wangge.core.tests.factories import user_with

    other = scope_for(user_with((Role.DISTRICT_ADMIN, "440705"), username="other-district"))
    with pytest.raises(ValidationFailed):
        restructure(actor=other, operation="move", grids=[FIFTH], community=NANCUN)


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"operation": "twist", "grids": [FIFTH]}, "unknown_operation"),
        (
            {"operation": "move", "grids": ["440704003001099"], "community": NANCUN},
            "unknown_region",
        ),
        ({"operation": "move", "grids": [FIFTH], "community": "440704003009"}, "unknown_region"),
        ({"operation": "move", "grids": [FIFTH, MINE], "community": NANCUN}, "one_grid"),
        ({"operation": "split", "grids": [MINE]}, "pieces_required"),
        ({"operation": "recode", "grids": [FIFTH], "mapping": "person,x,1"}, "bad_mapping"),
        (
            {
                "operation": "move",
                "grids": [FIFTH],
                "community": NANCUN,
                "effective": dt.datetime(2100, 1, 1, tzinfo=dt.UTC),
            },
            "future_date",
        ),
    ],
)
def test_bad_input_is_refused_in_chinese(kwargs: dict[str, Any], code: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        restructure(actor=admin(), **kwargs)
    assert caught.value.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(caught.value.message))


@pytest.mark.parametrize(
    ("kwargs", "kind"),
    [
        ({"operation": "recode", "grids": [FIFTH]}, "nothing_to_change"),
        ({"operation": "recode", "grids": [FIFTH], "code": "440704003002009"}, "other_community"),
        ({"operation": "recode", "grids": [FIFTH], "code": MINE}, "code_used"),
        ({"operation": "move", "grids": [FIFTH], "community": YINGNAN}, "same_community"),
        ({"operation": "move", "grids": [MINE], "community": "440704001001"}, "not_adjacent"),
        (
            {"operation": "move", "grids": [FIFTH], "community": NANCUN, "default": MINE},
            "bad_default",
        ),
        (
            {
                "operation": "move",
                "grids": [FIFTH],
                "community": NANCUN,
                "effective": dt.datetime(2019, 1, 1, tzinfo=dt.UTC),
            },
            "effective_too_early",
        ),
    ],
)
def test_problems_are_listed_in_chinese_and_nothing_changes(
    kwargs: dict[str, Any], kind: str
) -> None:
    report = restructure(actor=admin(), apply=True, **kwargs)
    assert not report.applied and kind in [p.kind for p in report.problems]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in p.message) for p in report.problems)
    assert not Succession.objects.dangerously_unscoped().exists()


def test_closed_codes_are_never_reused_by_an_import() -> None:
    from wangge.regions.services import grids_import

    restructure(
        actor=admin(), operation="recode", grids=[FIFTH], code="440704003001009", apply=True
    )
    feature = {
        "type": "Feature",
        "properties": {"code": FIFTH, "name": "复活网格"},
        "geometry": box(113.24, 22.51, 113.25, 22.52),
    }
    report = grids_import(
        actor=SYSTEM,
        data=json.dumps({"type": "FeatureCollection", "features": [feature]}).encode(),
    )
    assert "closed_code" in [p.kind for p in report.problems]


# -- the command -------------------------------------------------------------------------------


def test_cli_dry_run_then_apply(capsys: Any) -> None:
    call_command("restructure", "move", FIFTH, "--to", NANCUN, "--json")
    dry = json.loads(capsys.readouterr().out)
    assert dry["ok"] and not dry["applied"]
    assert not Region.objects.dangerously_unscoped().filter(code="440704003002003").exists()
    call_command(
        "restructure", "move", FIFTH, "--to", NANCUN, "--apply", "--as", "demo-district", "--json"
    )
    done = json.loads(capsys.readouterr().out)
    assert done["applied"] and done["modules"] == dry["modules"]
    assert AuditEntry.objects.filter(action="regions.restructure").latest("seq").actor_name == (
        "demo-district"
    )


def test_cli_problems_exit_non_zero(capsys: Any) -> None:
    with pytest.raises(SystemExit) as caught:
        call_command("restructure", "recode", FIFTH)
    assert caught.value.code == 1
    with pytest.raises(CommandError):  # not found for a street officer
        call_command("restructure", "move", FIFTH, "--to", NANCUN, "--as", "demo-street")
    capsys.readouterr()


def test_counts_per_target_grid() -> None:
    report = restructure(actor=admin(), operation="merge", grids=[MINE, "440704003001002"])
    per_grid = report.totals()
    assert list(per_grid) == [MINE]
    assert per_grid[MINE] == sum(
        n for m in report.modules for (_k, target), n in m.moved.items() if target == MINE
    )


# -- campaigns ---------------------------------------------------------------------------------


def test_split_gives_the_new_grid_a_task_with_its_records() -> None:
    from wangge.campaigns.models import Task, TaskRecord
    from wangge.campaigns.tests.factories import campaign

    estate = lf.EstateFactory.create(grid_code=MINE, code=f"{MINE[:12]}902", name="东半花园")
    building = lf.BuildingFactory.create(estate=estate, code="001", lon=113.2075, lat=22.515)
    resident = lf.PersonFactory.create(
        grid_code=MINE, room=lf.RoomFactory.create(building=building)
    )
    c = campaign(regions=[YINGNAN])
    east = "440704003001006"

    dry = restructure(
        actor=admin(), operation="split", grids=[MINE], pieces=_halves(), default=MINE
    )
    done = restructure(
        actor=admin(),
        operation="split",
        grids=[MINE],
        pieces=_halves(),
        default=MINE,
        apply=True,
    )

    assert dry.as_dict()["modules"]["campaigns"] == done.as_dict()["modules"]["campaigns"]
    part = Task.objects.dangerously_unscoped().get(campaign=c, grid_code=east)
    records = TaskRecord.objects.dangerously_unscoped().filter(task=part)
    assert ("person", resident.pk) in set(records.values_list("kind", "record_id"))
    assert set(records.values_list("grid_code", flat=True)) == {east}
    assert moved(done, "campaigns")["task"] == {east: 1}
    assert moved(done, "campaigns")["task_record"][east] == records.count()


def test_move_relabels_the_task_and_the_campaign_regions() -> None:
    from wangge.campaigns.models import Campaign, Task, TaskRecord
    from wangge.campaigns.tests.factories import campaign

    c = campaign(regions=[FIFTH])
    restructure(actor=admin(), operation="move", grids=[FIFTH], community=NANCUN, apply=True)
    new = "440704003002003"
    task = Task.objects.dangerously_unscoped().get(campaign=c)
    assert task.grid_code == new
    records = TaskRecord.objects.dangerously_unscoped().filter(task=task)
    assert records.exists() and set(records.values_list("grid_code", flat=True)) == {new}
    c = Campaign.objects.dangerously_unscoped().get(pk=c.pk)
    assert (c.regions, c.region_code) == ([new], new)


def test_the_wangge_command_maps_grids_restructure(capsys: Any) -> None:
    from wangge import cli

    cli.main(["grids", "restructure", "move", FIFTH, "--to", NANCUN, "--json"])
    data = json.loads(capsys.readouterr().out)
    assert data["operation"] == "move" and data["dry_run"] and data["ok"]


def test_split_moves_open_events_by_their_point() -> None:
    rows = history([MINE], n=30, start=dt.datetime(2026, 1, 5, tzinfo=dt.UTC), days=30)
    events = Event.objects.dangerously_unscoped()
    events.filter(pk__in=[e.pk for e in rows]).update(lon=113.2075, lat=22.515)  # east half
    open_ids = set(
        events.filter(pk__in=[e.pk for e in rows], status__in=OPEN_STATUSES).values_list(
            "pk", flat=True
        )
    )
    restructure(
        actor=admin(),
        operation="split",
        grids=[MINE],
        pieces=_halves(),
        default=MINE,
        apply=True,
    )
    east = "440704003001006"
    assert (
        set(events.filter(pk__in=[e.pk for e in rows], grid_code=east).values_list("pk", flat=True))
        == open_ids
    )
    assert not events.filter(grid_code=east).exclude(status__in=OPEN_STATUSES).exists()


def test_merge_keeps_a_second_party_organisation_on_its_old_code() -> None:
    from wangge.teams import services as teams

    second = "440704003001002"
    teams.party_org_save(
        actor=SYSTEM, grid_code=second, kind="group", name="第2网格党小组", secretary=None
    )
    report = restructure(actor=admin(), operation="merge", grids=[MINE, second], apply=True)
    orgs = PartyOrganisation.objects.dangerously_unscoped()
    assert orgs.get(grid_code=MINE).name == f"{MINE}党支部"
    assert orgs.get(grid_code=second).name == "第2网格党小组"  # listed, not moved or dropped
    assert any("第2网格党小组" in n for n in report.as_dict()["modules"]["teams"]["notes"])
