from __future__ import annotations

import json
from typing import Any

import pytest
import shapely
from django.core.management import call_command

from tests import world
from wangge.core.models import AuditEntry
from wangge.regions.models import Boundary, Region
from wangge.regions.services import grids_export, grids_import
from wangge.regions.tests.layers import STEP, X0, Y0, box, encode, feature, good_layer, with_change

pytestmark = pytest.mark.django_db

GRID1, GRID2, GRID3, GRID4 = (f"440799001001{i:03d}" for i in range(1, 5))


def _stored_test_regions() -> int:
    return Region.objects.dangerously_unscoped().filter(code__startswith="440799").count()


def test_good_layer_imports_all_levels(system: Any) -> None:
    report = grids_import(actor=system, data=encode(good_layer()), source="test")

    assert report.ok, report.as_dict()
    assert report.counts == {
        "features": 7,
        "community": 1,
        "district": 1,
        "grid": 4,
        "street": 1,
        "created": 7,
        "updated": 0,
        "unchanged": 0,
    }
    grid = Region.objects.dangerously_unscoped().get(code=GRID1)
    assert grid.parent.code == "440799001001" and grid.level == "grid" and grid.kind == "basic"
    area = Boundary.objects.dangerously_unscoped().get(region=grid, valid_to=None).area_m2
    assert 1.0e6 < area < 1.2e6  # 0.01° × 0.01° at 22.8°N ≈ 1.14 km²


def test_dry_run_stores_nothing(system: Any) -> None:
    audit_before = AuditEntry.objects.count()

    report = grids_import(actor=system, data=encode(good_layer()), dry_run=True)

    assert report.ok and report.counts["created"] == 7
    assert _stored_test_regions() == 0
    assert AuditEntry.objects.count() == audit_before


def _remove_code(features: list[Any]) -> None:
    del features[3]["properties"]["code"]


def _malformed(features: list[Any]) -> None:
    features[3]["properties"]["code"] = "4407990010010X1"


def _duplicate(features: list[Any]) -> None:
    features[4]["properties"]["code"] = GRID1


def _not_extending(features: list[Any]) -> None:
    features[3]["properties"]["parent"] = "440799001002"


def _unknown_parent(features: list[Any]) -> None:
    features[3]["properties"]["code"] = "440799001009001"


def _self_intersection(features: list[Any]) -> None:
    x0, y1 = X0, Y0 + 2 * STEP
    bow = [[x0, y1 - STEP], [x0 + STEP, y1], [x0 + STEP, y1 - STEP], [x0, y1], [x0, y1 - STEP]]
    features[3]["geometry"] = {"type": "Polygon", "coordinates": [bow]}


def _unclosed(features: list[Any]) -> None:
    features[3]["geometry"]["coordinates"][0].pop()


def _too_short(features: list[Any]) -> None:
    ring = features[3]["geometry"]["coordinates"][0]
    features[3]["geometry"]["coordinates"][0] = [ring[0], ring[1], ring[0]]


def _out_of_range(features: list[Any]) -> None:
    features[3]["geometry"]["coordinates"][0][1][0] = 213.5


def _swapped(features: list[Any]) -> None:
    ring = features[3]["geometry"]["coordinates"][0]
    features[3]["geometry"]["coordinates"][0] = [[lat, lon] for lon, lat in ring]


def _overlap(features: list[Any]) -> None:
    # Grid 2 grows 100 m west into grid 1.
    features[4]["geometry"] = box(X0 + STEP - 0.001, Y0 + STEP, X0 + 2 * STEP, Y0 + 2 * STEP)


def _gap(features: list[Any]) -> None:
    # Grid 4 shrinks 100 m from the east: part of the community is in no grid.
    features[6]["geometry"] = box(X0 + STEP, Y0, X0 + 2 * STEP - 0.001, Y0 + STEP)


def _outside(features: list[Any]) -> None:
    # Grid 4 grows 100 m east, beyond its community.
    features[6]["geometry"] = box(X0 + STEP, Y0, X0 + 2 * STEP + 0.001, Y0 + STEP)


CASES = [
    (_remove_code, "missing_code", 3),
    (_malformed, "malformed_code", 3),
    (_duplicate, "duplicate_code", 4),
    (_not_extending, "code_parent_mismatch", 3),
    (_unknown_parent, "unknown_parent", 3),
    (_self_intersection, "self_intersection", 3),
    (_unclosed, "unclosed_ring", 3),
    (_too_short, "ring_too_short", 3),
    (_out_of_range, "coordinates_out_of_range", 3),
    (_swapped, "coordinates_swapped", 3),
    (_overlap, "overlap", 4),
    (_gap, "gap", 2),
    (_outside, "outside_parent", 6),
]


@pytest.mark.parametrize(("change", "kind", "feature_index"), CASES, ids=[c[1] for c in CASES])
def test_each_problem_is_rejected_and_nothing_stored(
    system: Any, change: Any, kind: str, feature_index: int
) -> None:
    audit_before = AuditEntry.objects.count()

    report = grids_import(actor=system, data=encode(with_change(change)))

    assert not report.ok
    kinds = {(p.kind, p.feature) for p in report.problems}
    assert (kind, feature_index) in kinds, report.as_dict()["problems"]
    assert all(p.message for p in report.problems)
    assert _stored_test_regions() == 0
    assert AuditEntry.objects.count() == audit_before
    # ... and the corrected file imports.
    assert grids_import(actor=system, data=encode(good_layer())).ok


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\xff\xfe not json", "unreadable_file"),
        (b'{"type": "Feature"}', "not_geojson"),
        (b"[1, 2]", "not_geojson"),
    ],
)
def test_unreadable_or_not_geojson(system: Any, data: bytes, kind: str) -> None:
    report = grids_import(actor=system, data=data)
    assert not report.ok
    assert [p.kind for p in report.problems] == [kind]


def test_problem_has_location_and_chinese_message(system: Any) -> None:
    report = grids_import(actor=system, data=encode(with_change(_self_intersection)))
    problem = next(p for p in report.problems if p.kind == "self_intersection")
    assert problem.location is not None
    lon, lat = problem.location
    assert X0 <= lon <= X0 + STEP and Y0 <= lat <= Y0 + 2 * STEP
    assert "边界" in problem.message


def test_repair_applies_make_valid_and_lists_it(system: Any) -> None:
    report = grids_import(actor=system, data=encode(with_change(_self_intersection)), repair=True)
    # The bow-tie becomes two triangles, which leave half the grid's square uncovered: the
    # repair is listed, and the gap it leaves is still reported.
    assert [r.feature for r in report.repairs] == [3]
    assert "make_valid" in report.repairs[0].change
    assert any(p.kind == "gap" for p in report.problems)


def test_reimport_is_unchanged_and_boundary_change_makes_a_version(system: Any) -> None:
    assert grids_import(actor=system, data=encode(good_layer())).ok
    again = grids_import(actor=system, data=encode(good_layer()))
    assert again.ok and again.counts["unchanged"] == 7 and again.counts["created"] == 0

    # Restructure: the border between grid 1 and grid 2 moves 300 m east.
    def move(features: list[Any]) -> None:
        top = Y0 + 2 * STEP
        features[3]["geometry"] = box(X0, top - STEP, X0 + STEP + 0.003, top)
        features[4]["geometry"] = box(X0 + STEP + 0.003, top - STEP, X0 + 2 * STEP, top)

    changed = grids_import(actor=system, data=encode(with_change(move)))
    assert changed.ok and changed.counts["updated"] == 2

    grid = Region.objects.dangerously_unscoped().get(code=GRID1)
    versions = list(
        Boundary.objects.dangerously_unscoped().filter(region=grid).order_by("valid_from")
    )
    assert len(versions) == 2
    assert versions[0].valid_to == versions[1].valid_from
    assert versions[1].valid_to is None
    assert versions[1].area_m2 > versions[0].area_m2


def test_export_imports_back_unchanged(system: Any) -> None:
    exported = grids_export()
    report = grids_import(actor=system, data=encode(exported))
    assert report.ok
    assert report.counts["created"] == 0 and report.counts["updated"] == 0
    assert report.counts["unchanged"] == len(exported["features"]) > len(world.grid_codes())


def test_command_json_output_and_exit_code(tmp_path: Any, capsys: Any) -> None:
    bad = tmp_path / "bad.geojson"
    bad.write_bytes(encode(with_change(_duplicate)))

    with pytest.raises(SystemExit) as exit_info:
        call_command("grids", "import", str(bad), "--json")

    assert exit_info.value.code == 1
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False
    found = {(p["feature"], p["code"], p["kind"]) for p in out["problems"]}
    assert (4, GRID1, "duplicate_code") in found
    assert _stored_test_regions() == 0

    good = tmp_path / "good.geojson"
    good.write_bytes(encode(good_layer()))
    call_command("grids", "import", str(good), "--json")
    assert json.loads(capsys.readouterr().out)["ok"] is True
    assert _stored_test_regions() == 7


def test_grids_check_on_the_world_is_ok(capsys: Any) -> None:
    call_command("grids", "check", "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is True, out["problems"][:3]
    assert out["counts"] == {
        "community": sum(len(s.communities) for s in world.STREETS),
        "district": 1,
        "grid": len(world.grid_codes()),
        "street": len(world.STREETS),
    }


def test_department_layer_import_crosswalk_and_straddle(system: Any) -> None:
    from wangge.regions.models import Crosswalk, DepartmentGrid
    from wangge.regions.selectors import straddling_grids
    from wangge.regions.services import layer_create

    assert grids_import(actor=system, data=encode(good_layer())).ok
    layer = layer_create(actor=system, slug="test-dept", name="测试部门", department=None)
    top = Y0 + 2 * STEP
    # One department grid exactly on grid 1; one covering grids 2 and 4 (a straddler).
    doc = {
        "type": "FeatureCollection",
        "features": [
            feature("4407990010010001", "部门网格一", box(X0, top - STEP, X0 + STEP, top)),
            feature("4407990010010002", "部门网格二", box(X0 + STEP, Y0, X0 + 2 * STEP, top)),
        ],
    }
    report = grids_import(actor=system, data=encode(doc), layer="test-dept")
    assert report.ok, report.as_dict()
    first = DepartmentGrid.objects.dangerously_unscoped().get(layer=layer, code="4407990010010001")
    assert first.region_code == GRID1
    shares = {
        c.grid.code: round(c.share, 3)
        for c in Crosswalk.objects.dangerously_unscoped().filter(department_grid=first)
    }
    assert shares == {GRID1: 1.0}
    straddlers = straddling_grids(actor=system, layer=layer, threshold=0.95)
    assert [s["code"] for s in straddlers] == ["4407990010010002"]
    assert {p["grid"] for p in straddlers[0]["parts"]} == {GRID2, GRID4}


def test_department_layer_rejects_overlap_and_bad_codes(system: Any) -> None:
    from wangge.regions.services import layer_create

    layer_create(actor=system, slug="test-dept", name="测试部门", department=None)
    doc = {
        "type": "FeatureCollection",
        "features": [
            feature("4407990010010001", "一", box(X0, Y0, X0 + STEP, Y0 + STEP)),
            feature("4407990010010002", "二", box(X0 + 0.5 * STEP, Y0, X0 + 2 * STEP, Y0 + STEP)),
            feature("bad code", "三", box(X0, Y0 + STEP, X0 + STEP, Y0 + 2 * STEP)),
        ],
    }
    report = grids_import(actor=system, data=encode(doc), layer="test-dept")
    assert not report.ok
    assert {p.kind for p in report.problems} == {"overlap", "malformed_code"}


def test_stored_geometry_is_what_the_file_said(system: Any) -> None:
    assert grids_import(actor=system, data=encode(good_layer())).ok
    stored = Boundary.objects.dangerously_unscoped().get(region__code=GRID4, valid_to=None)
    expected = shapely.geometry.shape(good_layer()["features"][6]["geometry"])
    assert shapely.equals(shapely.from_geojson(stored.geojson), expected)
