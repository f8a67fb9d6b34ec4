"""Synthetic but realistic grid geometry for the demo district 江海区 (Jianghai, 440704).

Why this module exists: the demo needs a believable four-level hierarchy (district → streets →
villages/communities → grids) drawn on a real map, but the real street, community and grid
boundaries are not public. So we start from the real district boundary (``data/jianghai.geojson``)
and split it, deterministically, into pieces whose sizes and numbering look like a real
grid-governance layout. The same inputs always give byte-identical GeoJSON, so fixtures, tests and
screenshots are stable.

It also builds eight "legacy" department layers (党建, 政法综治, 民政, …): each department used to
draw its own grids, which never line up with the unified layer. The demo uses them to show the
reconciliation problem the product solves, so they deliberately disagree with the unified layer
(other counts, other cut directions, some cut per street or per district instead of per community)
while each one is still a clean tessellation.

Pure Python: shapely 2 + numpy, no Django, so it can run in scripts, migrations and tests alike.
Coordinates are CGCS2000 lon/lat (EPSG:4490); outputs are GeoJSON dicts whose geometries are
always MultiPolygons rounded to a 1e-7° grid (about 1 cm).
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any, Literal

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape

__all__ = [
    "DEDICATED_GRIDS",
    "DEPARTMENTS",
    "DISTRICT_CODE",
    "DISTRICT_NAME",
    "GRID_SIZE",
    "STREETS",
    "TOTAL_GRIDS",
    "build_department_layers",
    "build_unified",
    "district_polygon",
]

DISTRICT_CODE = "440704"
DISTRICT_NAME = "江海区"

#: Coordinate precision in degrees (≈1 cm). Every cut line is placed exactly on this grid so that
#: rounding never moves a shared edge differently on its two sides.
GRID_SIZE = 1e-7
_SCALE = 1e7  # 1 / GRID_SIZE, as an exact integer-valued float

#: (street code suffix, street name, [(community code suffix, community name, grid count), …]).
#: Communities are listed in code order, which is also their reading order on the map
#: (north-west first). The grid counts are the single source of truth for the layout: a
#: community's area is roughly proportional to its count (see ``_AREA_JITTER``).
STREETS: list[tuple[str, str, list[tuple[str, str, int]]]] = [
    (
        "001",
        "江南街道",
        [
            ("001", "东海社区", 9),
            ("002", "江翠社区", 8),
            ("003", "高新社区", 7),
            ("004", "金瓯社区", 8),
            ("005", "滘头村", 6),
            ("006", "滘北村", 7),
            ("007", "文昌社区", 8),
            ("008", "丹灶社区", 7),
        ],
    ),
    (
        "002",
        "外海街道",
        [
            ("001", "麻三村", 8),
            ("002", "南山村", 7),
            ("003", "直冲村", 9),
            ("004", "金溪社区", 6),
            ("005", "银泉社区", 7),
            ("006", "七西村", 8),
            ("007", "中东村", 7),
            ("008", "东南村", 6),
            ("009", "龙溪社区", 7),
        ],
    ),
    (
        "003",
        "礼乐街道",
        [
            ("001", "英南村", 8),
            ("002", "南村", 7),
            ("003", "乌纱村", 7),
            ("004", "新民村", 8),
            ("005", "威东村", 6),
            ("006", "礼东社区", 7),
            ("007", "丰乐村", 6),
            ("008", "武东村", 8),
            ("009", "礼西社区", 8),
        ],
    ),
]

#: 60 (江南) + 65 (外海) + 65 (礼乐).
TOTAL_GRIDS = 190
assert sum(n for _, _, comms in STREETS for _, _, n in comms) == TOTAL_GRIDS

#: Grids that cover one institution rather than a residential area (kind "dedicated").
DEDICATED_GRIDS: dict[str, str] = {
    "440704001001002": "江海区人民医院专属网格",
    "440704001003004": "江门高新区科技园专属网格",
    "440704002004003": "外海农贸市场专属网格",
    "440704002009005": "滨江公园专属网格",
    "440704003006002": "礼乐中学专属网格",
}

#: Area factor per community (cycled): keeps area only *roughly* proportional to grid count, so
#: the layout looks organic rather than like a perfect lattice, without any randomness.
_AREA_JITTER = (1.0, 1.18, 0.86, 1.09, 0.93, 1.22, 0.81, 1.05, 0.97, 1.13)

Axis = Literal["rows", "cols"]
CutAxis = Literal["x", "y"]
Level = Literal["district", "street", "community", "grid"]


# --------------------------------------------------------------------------------------------
# Splitting primitives
# --------------------------------------------------------------------------------------------


def _snap(value: float) -> float:
    """Round a coordinate onto the 1e-7 grid the way GEOS' fixed precision model does.

    GEOS computes ``round(v * scale) / scale`` with ``scale = 1 / grid_size``; a cut placed on
    such a value is a fixed point of every later ``grid_size`` overlay, so the two pieces on
    either side of a cut keep bit-identical shared edges.
    """
    return math.floor(value * _SCALE + 0.5) / _SCALE


def _as_multipolygon(geom: shapely.Geometry) -> MultiPolygon:
    """Keep only the polygonal parts (overlay may emit collapsed lines) as one MultiPolygon."""
    parts = [
        p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and not p.is_empty and p.area
    ]
    return MultiPolygon(parts)


def _solve_cut(area_below: Callable[[float], float], target: float, lo: float, hi: float) -> float:
    """Find c in [lo, hi] with area_below(c) == target, for an increasing area_below.

    Illinois-style regula falsi: the clipped area is a smooth piecewise-quadratic function of the
    cut, so this needs a handful of clip operations instead of ~20 bisection steps, and because it
    keeps a bracket it cannot diverge. It stops once the bracket is below the coordinate grid.
    """
    f_lo, f_hi = area_below(lo) - target, area_below(hi) - target
    side = 0
    c = (lo + hi) / 2
    for _ in range(200):
        if hi - lo < GRID_SIZE / 4 or f_hi == f_lo:
            break
        c = (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
        if not lo < c < hi:
            c = (lo + hi) / 2
        f_c = area_below(c) - target
        if f_c == 0:
            break
        if f_c < 0:
            lo, f_lo = c, f_c
            if side == -1:  # same end twice: halve the other end's weight (Illinois step)
                f_hi /= 2
            side = -1
        else:
            hi, f_hi = c, f_c
            if side == 1:
                f_lo /= 2
            side = 1
    return c


def _cuts(geom: MultiPolygon, weights: Sequence[float], axis: CutAxis) -> list[float]:
    """Positions of the ``len(weights) - 1`` parallel cuts giving slices of proportional area.

    axis "x": vertical cuts, slices run west → east; axis "y": horizontal cuts, slices run
    north → south. Every position is snapped onto the coordinate grid (see ``_snap``).
    """
    xmin, ymin, xmax, ymax = geom.bounds
    pad = 1.0
    cum = np.cumsum(np.asarray(weights, dtype=float))
    shares = cum[:-1] / cum[-1]
    total = geom.area
    cuts: list[float] = []
    if axis == "x":

        def west_of(c: float) -> float:
            return float(
                shapely.area(shapely.clip_by_rect(geom, xmin - pad, ymin - pad, c, ymax + pad))
            )

        lo = xmin
        for share in shares:
            lo = _snap(_solve_cut(west_of, float(share) * total, lo, xmax))
            cuts.append(lo)
    else:

        def south_of(c: float) -> float:
            return float(
                shapely.area(shapely.clip_by_rect(geom, xmin - pad, ymin - pad, xmax + pad, c))
            )

        hi = ymax
        for share in shares:
            # Slices run north → south: the cut leaves (1 - share) of the area south of it.
            hi = _snap(_solve_cut(south_of, (1.0 - float(share)) * total, ymin, hi))
            cuts.append(hi)
    return cuts


def _cut_pieces(geom: MultiPolygon, cuts: Sequence[float], axis: CutAxis) -> list[MultiPolygon]:
    """Cut ``geom`` at the given (grid-snapped) positions, in the order given.

    A snap-rounding overlay (``grid_size``) makes each slice valid and on the grid; since the
    cut lines already lie on the grid and both neighbours intersect the same parent edges with
    the same line, the two sides of every cut get bit-identical shared vertices.
    """
    xmin, ymin, xmax, ymax = geom.bounds
    pad = 1.0
    if axis == "x":
        edges = [xmin - pad, *cuts, xmax + pad]
        boxes = [shapely.box(a, ymin - pad, b, ymax + pad) for a, b in itertools.pairwise(edges)]
    else:
        edges = [ymax + pad, *cuts, ymin - pad]
        boxes = [shapely.box(xmin - pad, b, xmax + pad, a) for a, b in itertools.pairwise(edges)]
    pieces = [_as_multipolygon(shapely.intersection(geom, b, grid_size=GRID_SIZE)) for b in boxes]
    if any(piece.is_empty for piece in pieces):  # pragma: no cover - shares are never that small
        raise ValueError("equal-area cut produced an empty slice")
    return pieces


def _band_sizes(
    geom: MultiPolygon, weights: Sequence[float], cuts: Sequence[float], axis: CutAxis
) -> list[int]:
    """Choose how many pieces go in each band so that the pieces come out roughly square.

    ``cuts[j]`` is where a band boundary must lie if the first ``j + 1`` pieces are above
    (or west of) it, so any grouping of consecutive pieces into bands is possible without
    solving new cuts. A band of area A and length L (its extent along the band) is treated as a
    strip of mean thickness A / L, so a piece of area a in it is about a / (A / L)² times as long
    as it is thick. A small dynamic programme over the groupings minimises the summed squared log
    of that aspect ratio, which avoids slivers where the parent tapers to a point. All lengths
    are in metre-proportional units (longitude scaled by cos(latitude)).
    """
    xmin, ymin, xmax, ymax = geom.bounds
    pad = 1.0
    scale = math.cos(math.radians((ymin + ymax) / 2))
    positions = [ymax, *cuts, ymin] if axis == "y" else [xmin, *cuts, xmax]
    w = np.asarray(weights, dtype=float)
    areas = w / w.sum() * geom.area * scale
    n = len(weights)

    def band_cost(start: int, end: int) -> float:
        a, b = sorted((positions[start], positions[end]))
        if axis == "y":
            band = shapely.clip_by_rect(geom, xmin - pad, a, xmax + pad, b)
            bx0, _, bx1, _ = band.bounds
            length = (bx1 - bx0) * scale
        else:
            band = shapely.clip_by_rect(geom, a, ymin - pad, b, ymax + pad)
            _, by0, _, by1 = band.bounds
            length = by1 - by0
        band_area = float(shapely.area(band)) * scale
        if band_area <= 0 or not length > 0:
            return math.inf
        thickness = band_area / length
        return sum(math.log(areas[i] / thickness**2) ** 2 for i in range(start, end))

    best = [0.0] + [math.inf] * n
    choice = [0] * (n + 1)
    for end in range(1, n + 1):
        for start in range(end):
            cost = best[start] + band_cost(start, end)
            if cost < best[end] - 1e-12:
                best[end], choice[end] = cost, start
    sizes: list[int] = []
    end = n
    while end:
        sizes.append(end - choice[end])
        end = choice[end]
    return sizes[::-1]


def _split(
    geom: MultiPolygon,
    weights: Sequence[float],
    order: Axis = "rows",
    bands: Sequence[int] | None = None,
) -> list[MultiPolygon]:
    """Tessellate ``geom`` into ``len(weights)`` pieces with areas proportional to ``weights``.

    ``order="rows"``: equal-area horizontal bands north → south, each cut west → east, so the
    result is in reading order (this is how the unified grids are numbered). ``order="cols"``:
    vertical strips west → east, each cut north → south (used by some legacy layers so that
    they visibly disagree with the unified one). ``bands`` fixes the number of pieces per band;
    by default it is chosen to keep pieces compact. On a concave parent a piece can still be a
    MultiPolygon.
    """
    n = len(weights)
    if n < 1:
        raise ValueError("need at least one piece")
    if n == 1:
        return [geom]
    first: CutAxis = "y" if order == "rows" else "x"
    second: CutAxis = "x" if order == "rows" else "y"
    cuts = _cuts(geom, weights, first)
    sizes = list(bands) if bands is not None else _band_sizes(geom, weights, cuts, first)
    if sum(sizes) != n or min(sizes) < 1:
        raise ValueError(f"band sizes {sizes} do not add up to {n} pieces")
    ends = np.cumsum(sizes)
    band_geoms = _cut_pieces(geom, [cuts[e - 1] for e in ends[:-1]], first)
    pieces: list[MultiPolygon] = []
    for band, start, end in zip(band_geoms, ends - sizes, ends, strict=True):
        band_weights = weights[start:end]
        pieces.extend(_cut_pieces(band, _cuts(band, band_weights, second), second))
    return pieces


# --------------------------------------------------------------------------------------------
# Shared outer boundary
# --------------------------------------------------------------------------------------------

#: A vertex closer than this to the district boundary is where some cut line meets it.
_ON_BOUNDARY = 3e-7
#: How far such a vertex may be from a piece's outer edge and still be inserted into it. Rounding
#: moves each cut's end point by at most ~0.7e-7 per level of nesting, so 5e-7 (≈5 cm) is ample.
_INSERT_TOLERANCE = 5e-7


def _boundary_vertices(pieces: Sequence[MultiPolygon], district: MultiPolygon) -> np.ndarray:
    """Every vertex, of any piece in any layer, that lies on the district's outer boundary.

    Where a cut line meets a slanted district edge, the exact crossing is off the 1e-7 grid, so
    the rounded vertex sits up to ~1 cm off the edge. Each layer, and each level of the unified
    hierarchy, would then trace the outer edge slightly differently, leaving slivers of tens of
    m² between a parent and its children. Collecting these vertices lets every piece trace the
    same outer polyline (see ``_insert_vertices``).
    """
    coords = np.unique(shapely.get_coordinates(np.asarray(pieces, dtype=object)), axis=0)
    near = shapely.dwithin(shapely.points(coords), district.boundary, _ON_BOUNDARY)
    return coords[near]


def _insert_ring_vertices(ring: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Insert into each segment of a closed ring the points lying on (or next to) it, in order."""
    if not len(points):
        return ring
    a, b = ring[:-1], ring[1:]
    d = b - a
    rel = points[None, :, :] - a[:, None, :]
    length2 = (d * d).sum(axis=1)
    t = (rel * d[:, None, :]).sum(axis=2) / length2[:, None]
    offset = rel - t[:, :, None] * d[:, None, :]
    dist2 = (offset * offset).sum(axis=2)
    inside = (t > 0) & (t < 1) & (dist2 <= _INSERT_TOLERANCE**2)
    # Never re-insert a segment's own end points.
    inside &= ~(points[None, :, :] == a[:, None, :]).all(axis=2)
    inside &= ~(points[None, :, :] == b[:, None, :]).all(axis=2)
    if not inside.any():
        return ring
    out = []
    for i in range(len(a)):
        out.append(a[i : i + 1])
        hits = np.flatnonzero(inside[i])
        if len(hits):
            out.append(points[hits[np.argsort(t[i, hits], kind="stable")]])
    out.append(ring[-1:])
    return np.concatenate(out)


def _insert_vertices(geom: MultiPolygon, points: np.ndarray) -> MultiPolygon:
    """``geom`` with the given outer-boundary vertices added to the edges they lie on.

    Only adds vertices (each on the grid and within ~1 cm of the edge), never moves one, so
    shared inner edges stay identical and the shape changes by far less than 1 m².
    """
    xmin, ymin, xmax, ymax = geom.bounds
    pad = _INSERT_TOLERANCE
    near = points[
        (points[:, 0] >= xmin - pad)
        & (points[:, 0] <= xmax + pad)
        & (points[:, 1] >= ymin - pad)
        & (points[:, 1] <= ymax + pad)
    ]
    polygons = []
    for poly in shapely.get_parts(geom):
        shell = _insert_ring_vertices(np.asarray(poly.exterior.coords), near)
        holes = [_insert_ring_vertices(np.asarray(r.coords), near) for r in poly.interiors]
        polygons.append(Polygon(shell, holes))
    return MultiPolygon(polygons)


# --------------------------------------------------------------------------------------------
# Unified layer
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Unit:
    code: str
    name: str
    level: Level
    parent: str | None
    geom: MultiPolygon
    kind: str | None = None


def district_polygon() -> MultiPolygon:
    """The real 江海区 boundary (CGCS2000 lon/lat) that every layer is cut from.

    Read from the package data (see ``data/README.md`` for the source and licence) so the demo
    works without network access or the shared data directory. The district feature of
    ``build_unified`` has the same outline plus the vertices where cut lines meet it (each
    rounded onto the 1e-7° grid, so at most ~1 cm off this outline).
    """
    return _district_polygon()


@cache
def _district_polygon() -> MultiPolygon:
    text = resources.files("wangge.demo").joinpath("data", "jianghai.geojson").read_text("utf-8")
    features = [f for f in json.loads(text)["features"] if f["properties"]["code"] == DISTRICT_CODE]
    if len(features) != 1:
        raise ValueError(f"expected one feature with code {DISTRICT_CODE}")
    geom = shapely.set_precision(shape(features[0]["geometry"]), GRID_SIZE)
    return _as_multipolygon(geom)


def _community_weights(communities: Sequence[tuple[str, str, int]], offset: int) -> list[float]:
    return [
        count * _AREA_JITTER[(offset + i) % len(_AREA_JITTER)]
        for i, (_, _, count) in enumerate(communities)
    ]


def _unified_units(district: MultiPolygon) -> list[_Unit]:
    """Cut the district top-down: streets, then communities, then grids, in code order."""
    units = [_Unit(DISTRICT_CODE, DISTRICT_NAME, "district", None, district)]
    communities: list[_Unit] = []
    grids: list[_Unit] = []

    offsets = np.cumsum([0] + [len(c) for _, _, c in STREETS])
    street_weights = [
        sum(_community_weights(comms, int(offsets[i]))) for i, (_, _, comms) in enumerate(STREETS)
    ]
    # Two bands: 江南 (north-west) and 外海 (north-east) on top, 礼乐 across the south.
    street_geoms = _split(district, street_weights, "rows", bands=[2, 1])
    for s, ((s_suffix, s_name, comms), s_geom) in enumerate(
        zip(STREETS, street_geoms, strict=True)
    ):
        s_code = DISTRICT_CODE + s_suffix
        units.append(_Unit(s_code, s_name, "street", DISTRICT_CODE, s_geom))
        c_geoms = _split(s_geom, _community_weights(comms, int(offsets[s])), "rows")
        for (c_suffix, c_name, count), c_geom in zip(comms, c_geoms, strict=True):
            c_code = s_code + c_suffix
            communities.append(_Unit(c_code, c_name, "community", s_code, c_geom))
            for seq, g_geom in enumerate(_split(c_geom, [1.0] * count, "rows"), start=1):
                g_code = f"{c_code}{seq:03d}"
                special = DEDICATED_GRIDS.get(g_code)
                grids.append(
                    _Unit(
                        g_code,
                        special or f"{c_name}第{seq}网格",
                        "grid",
                        c_code,
                        g_geom,
                        "dedicated" if special else "basic",
                    )
                )
    units.extend(sorted(communities, key=lambda u: u.code))
    units.extend(sorted(grids, key=lambda u: u.code))
    return units


# --------------------------------------------------------------------------------------------
# Legacy department layers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Department:
    slug: str
    name: str
    short: str
    number: int
    #: Which unified units each department drew its grids inside.
    scope: Literal["district", "street", "community"]
    order: Axis
    #: Number of department grids for a parent holding ``n`` unified grids.
    count: Callable[[int], int]
    #: Relative size variation between the department's grids (0 = equal areas).
    wobble: float


_DEPARTMENT_SPECS: tuple[_Department, ...] = (
    _Department("dangjian", "党建", "党建", 1, "community", "cols", lambda n: n + 1, 0.0),
    _Department(
        "zhengfa", "政法综治", "综治", 2, "community", "rows", lambda n: max(3, n - 2), 0.3
    ),
    _Department("minzheng", "民政", "民政", 3, "community", "cols", lambda n: (n + 1) // 2, 0.2),
    _Department("chengguan", "城管", "城管", 4, "street", "rows", lambda n: n // 3, 0.25),
    _Department(
        "xinfang", "信访", "信访", 5, "community", "cols", lambda n: max(3, n * 2 // 3), 0.2
    ),
    _Department("shichang", "市场监管", "市场", 6, "street", "cols", lambda n: n // 4, 0.3),
    _Department("weijian", "卫生健康", "卫健", 7, "community", "rows", lambda n: n, 0.4),
    _Department("yingji", "应急管理", "应急", 8, "district", "rows", lambda n: 40, 0.3),
)

#: (slug, display name, department number) for every legacy layer, in a stable order.
DEPARTMENTS: list[tuple[str, str, int]] = [(d.slug, d.name, d.number) for d in _DEPARTMENT_SPECS]


@dataclass(frozen=True)
class _DeptGrid:
    code: str
    name: str
    geom: MultiPolygon


def _wobbly_weights(n: int, wobble: float, phase: int) -> list[float]:
    """Deterministic, irregular-looking size factors in [1 - wobble, 1 + wobble]."""
    return [1.0 + wobble * math.sin(2.39996 * (i + 1) + 1.7 * phase) for i in range(n)]


def _department_grids(dept: _Department, units: Sequence[_Unit]) -> list[_DeptGrid]:
    """Cut each unified unit of the department's scope in the department's own way."""
    grids_per_parent: dict[str, int] = {}
    for unit in units:
        if unit.level == "grid":
            assert unit.parent is not None
            for key in (unit.parent, unit.parent[:9], DISTRICT_CODE):
                grids_per_parent[key] = grids_per_parent.get(key, 0) + 1
    out = []
    for p, parent in enumerate(u for u in units if u.level == dept.scope):
        n = dept.count(grids_per_parent[parent.code])
        weights = _wobbly_weights(n, dept.wobble, p + dept.number)
        for seq, geom in enumerate(_split(parent.geom, weights, dept.order), start=1):
            code = f"{parent.code.ljust(12, '0')}{dept.number:02d}{seq:04d}"
            out.append(_DeptGrid(code, f"{parent.name}{dept.short}第{seq}网格", geom))
    return out


# --------------------------------------------------------------------------------------------
# Public builders
# --------------------------------------------------------------------------------------------


@cache
def _layout() -> tuple[tuple[_Unit, ...], dict[str, tuple[_DeptGrid, ...]]]:
    """All layers, computed once per process (shapely geometries are immutable).

    The layers are cut independently, then every piece gets the outer-boundary vertices of all
    layers, so the unified levels and the department layers share one exact outline.
    """
    district = _district_polygon()
    units = _unified_units(district)
    depts = {dept.slug: _department_grids(dept, units) for dept in _DEPARTMENT_SPECS}
    pieces = [u.geom for u in units] + [g.geom for grids in depts.values() for g in grids]
    points = _boundary_vertices(pieces, district)
    units = [replace(u, geom=_insert_vertices(u.geom, points)) for u in units]
    noded = {
        slug: tuple(replace(g, geom=_insert_vertices(g.geom, points)) for g in grids)
        for slug, grids in depts.items()
    }
    return tuple(units), noded


def _geojson_geometry(geom: MultiPolygon) -> dict[str, Any]:
    """RFC 7946 MultiPolygon: counter-clockwise shells, plain lists (JSON-stable)."""
    oriented = _as_multipolygon(shapely.orient_polygons(geom, exterior_cw=False))
    return {
        "type": "MultiPolygon",
        "coordinates": [
            [[[x, y] for x, y in ring] for ring in poly]
            for poly in mapping(oriented)["coordinates"]
        ],
    }


def build_unified() -> dict[str, Any]:
    """The unified layer as a GeoJSON FeatureCollection.

    One feature per unit, ordered district, streets, communities, grids (each by code). Every
    level tessellates its parent: the children cover it with no gaps or overlaps beyond
    floating-point noise. Returns fresh dicts on each call, so callers may mutate them.
    """
    features = []
    for unit in _layout()[0]:
        props: dict[str, Any] = {
            "code": unit.code,
            "name": unit.name,
            "level": unit.level,
            "parent": unit.parent,
        }
        if unit.level == "grid":
            props["kind"] = unit.kind
        features.append(
            {"type": "Feature", "properties": props, "geometry": _geojson_geometry(unit.geom)}
        )
    return {"type": "FeatureCollection", "features": features}


def build_department_layers() -> dict[str, dict[str, Any]]:
    """Eight legacy department tessellations of the district, keyed by layer slug.

    Each one covers the district without overlaps but disagrees with the unified layer (other
    grid counts and cut directions; 城管/市场监管 cut per street and 应急管理 over the whole
    district, so their grids straddle community boundaries). Codes are 18 digits: the parent
    unit's code padded to 12 digits + 2-digit department number + 4-digit sequence. Returns
    fresh dicts on each call.
    """
    return {
        slug: {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"code": g.code, "name": g.name},
                    "geometry": _geojson_geometry(g.geom),
                }
                for g in grids
            ],
        }
        for slug, grids in _layout()[1].items()
    }
