from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from django.core.management import call_command

from tests import world
from wangge.regions.locate import PolygonIndex, grid_index
from wangge.regions.models import Boundary

pytestmark = pytest.mark.django_db


def _brute_force(geoms: list[Any], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    result = np.full(len(x), -1)
    for i in range(len(x)):
        for j, g in enumerate(geoms):
            if shapely.intersects_xy(g, x[i], y[i]):
                result[i] = j
                break
    return result


@pytest.mark.parametrize("n", [1, 7, 60])
def test_polygon_index_matches_brute_force(n: int) -> None:
    rng = np.random.default_rng(n)
    seeds = shapely.multipoints(rng.uniform([0, 0], [1, 1], size=(max(n, 2), 2)))
    env = shapely.box(0, 0, 1, 1)
    cells = [
        shapely.intersection(p, env)
        for p in shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=env))
    ][:n]
    x = rng.uniform(-0.1, 1.1, 3000)
    y = rng.uniform(-0.1, 1.1, 3000)
    # Include vertices and points exactly on shared edges.
    verts = shapely.get_coordinates(cells[0])
    x = np.concatenate([x, verts[:, 0]])
    y = np.concatenate([y, verts[:, 1]])

    got = PolygonIndex.build(cells).locate(x, y)

    assert (got == _brute_force(cells, x, y)).all()


def test_polygon_index_handles_nan_and_empty() -> None:
    index = PolygonIndex.build([shapely.box(0, 0, 1, 1)])
    assert index.locate([np.nan, 0.5, 5], [0.5, np.nan, 5]).tolist() == [-1, -1, -1]
    assert PolygonIndex.build([]).locate([0.5], [0.5]).tolist() == [-1]


def test_every_demo_grid_locates_its_own_interior_point() -> None:
    rows = list(
        Boundary.objects.dangerously_unscoped()
        .filter(valid_to=None, region__level="grid")
        .values_list("region__code", "geojson")
    )
    points = [shapely.from_geojson(g).representative_point() for _, g in rows]
    index = grid_index()
    codes = index.codes_for(index.locate([p.x for p in points], [p.y for p in points]))
    assert codes == [code for code, _ in rows]
    assert len(codes) == len(world.grid_codes())


def test_index_rebuilds_when_boundaries_change(system: Any) -> None:
    from wangge.regions.services import grids_import
    from wangge.regions.tests.layers import X0, Y0, encode, good_layer

    before = grid_index()
    assert before.codes_for(before.locate([X0 + 0.005], [Y0 + 0.015]))[0] is None

    assert grids_import(actor=system, data=encode(good_layer())).ok

    after = grid_index()
    assert after.revision > before.revision
    assert after.codes_for(after.locate([X0 + 0.005], [Y0 + 0.015]))[0] == "440799001001001"


def test_locate_command_point_and_csv(tmp_path: Path, capsys: Any) -> None:
    geo = (
        Boundary.objects.dangerously_unscoped()
        .get(region__code="440704003001001", valid_to=None)
        .geojson
    )
    p = shapely.from_geojson(geo).representative_point()
    call_command("grids", "locate", str(p.x), str(p.y), "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["grid_code"] == "440704003001001"
    assert out["community"] == "英南村" and out["street"] == "礼乐街道"

    src = tmp_path / "in.csv"
    src.write_text(
        f"名称,经度,纬度\n甲,{p.x},{p.y}\n乙,100.0,30.0\n丙,abc,22.5\n", encoding="gb18030"
    )
    out_path = tmp_path / "out.csv"
    call_command("grids", "locate", "--csv", str(src), "--out", str(out_path), "--json")
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"] == 3 and summary["located"] == 1
    assert summary["outside_rows"] == [3] and summary["invalid_rows"] == [4]
    with out_path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["名称"] for r in rows] == ["甲", "乙", "丙"]  # nothing dropped
    assert [r["locate_status"] for r in rows] == ["ok", "outside", "invalid"]
    assert rows[0]["grid_code"] == "440704003001001" and rows[1]["grid_code"] == ""


def test_locate_command_outside_exits_non_zero() -> None:
    with pytest.raises(SystemExit) as exit_info:
        call_command("grids", "locate", "100", "30")
    assert exit_info.value.code == 1
