"""Validation of grid layers: every problem found, with feature index, code, kind and location.

Used by `grids import` on a file (merged with what is stored) and by `grids check` on what is
stored. Nothing here writes; nothing is "fixed" unless the caller asks for `repair`, and then
each change is listed.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from django.conf import settings
from django.utils.translation import gettext as _
from shapely.geometry.base import BaseGeometry

from wangge.core.geo import area_m2
from wangge.regions.models import CODE_LENGTH_LEVEL, GridKind, Level

# China's extent, generously: points outside are out of range for a Chinese district.
LON_RANGE = (73.0, 136.0)
LAT_RANGE = (3.0, 54.0)
_REASON_LOCATION = re.compile(r"\[\s*([-0-9.eE+]+)\s+([-0-9.eE+]+)")


@dataclass
class Problem:
    kind: str
    message: str
    feature: int | None = None
    code: str | None = None
    location: list[float] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "code": self.code,
            "kind": self.kind,
            "message": self.message,
            "location": self.location,
        }


@dataclass
class Repair:
    feature: int
    code: str | None
    change: str
    area_before_m2: float | None
    area_after_m2: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "code": self.code,
            "change": self.change,
            "area_before_m2": self.area_before_m2,
            "area_after_m2": round(self.area_after_m2, 2),
        }


@dataclass
class Feature:
    """One parsed feature. `index` is its position in the file (None when it comes from storage)."""

    index: int | None
    code: str
    name: str
    level: Level | None
    parent: str | None
    kind: str
    geometry: BaseGeometry | None
    extra: dict[str, Any] = field(default_factory=dict)


def _loc(geom: BaseGeometry | None) -> list[float] | None:
    if geom is None or geom.is_empty:
        return None
    point = geom.representative_point()
    return [round(point.x, 7), round(point.y, 7)]


# -- the file ----------------------------------------------------------------------------------


def read_feature_collection(data: bytes) -> tuple[list[Any], list[Problem]]:
    """Decode a GeoJSON FeatureCollection: its raw features, or the problem that stops us."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [], [
            Problem(
                "unreadable_file",
                _("The file cannot be read as UTF-8 JSON: %(error)s") % {"error": exc},
            )
        ]
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        return [], [Problem("not_geojson", _("The file is not a GeoJSON FeatureCollection."))]
    features = doc.get("features")
    if not isinstance(features, list):
        return [], [Problem("not_geojson", _("The FeatureCollection has no list of features."))]
    return features, []


def _ring_problems(index: int, code: str | None, geometry: Any, repair: bool) -> list[Problem]:
    """Checks on the raw coordinates that shapely would hide (it closes rings silently)."""
    problems: list[Problem] = []
    gtype = geometry.get("type") if isinstance(geometry, dict) else None
    if gtype not in {"Polygon", "MultiPolygon"}:
        return [
            Problem(
                "invalid_geometry",
                _("The geometry must be a Polygon or MultiPolygon, not %(type)s.")
                % {"type": gtype or _("nothing")},
                index,
                code,
            )
        ]
    coords = geometry.get("coordinates")
    polygons = [coords] if gtype == "Polygon" else coords
    if not isinstance(polygons, list) or not polygons:
        return [Problem("invalid_geometry", _("The geometry has no coordinates."), index, code)]
    xs: list[float] = []
    ys: list[float] = []
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            return [Problem("invalid_geometry", _("A polygon has no rings."), index, code)]
        for ring in polygon:
            if not isinstance(ring, list) or not all(
                isinstance(p, list)
                and len(p) >= 2
                and all(isinstance(v, int | float) and not isinstance(v, bool) for v in p[:2])
                for p in ring
            ):
                return [
                    Problem(
                        "invalid_geometry",
                        _("A ring holds a position that is not a pair of numbers."),
                        index,
                        code,
                    )
                ]
            location = [float(ring[0][0]), float(ring[0][1])] if ring else None
            if len(ring) < 4:
                problems.append(
                    Problem(
                        "ring_too_short",
                        _("A ring has %(n)d positions; at least 4 are needed.") % {"n": len(ring)},
                        index,
                        code,
                        location,
                    )
                )
            elif ring[0][:2] != ring[-1][:2]:
                if repair:
                    ring.append(list(ring[0]))
                else:
                    problems.append(
                        Problem(
                            "unclosed_ring",
                            _("A ring is not closed: its last position differs from its first."),
                            index,
                            code,
                            location,
                        )
                    )
            xs.extend(float(p[0]) for p in ring)
            ys.extend(float(p[1]) for p in ring)
    if xs:
        x = np.array(xs)
        y = np.array(ys)
        first = [float(x[0]), float(y[0])]
        in_lon = (x >= LON_RANGE[0]) & (x <= LON_RANGE[1])
        in_lat = (y >= LAT_RANGE[0]) & (y <= LAT_RANGE[1])
        if not (in_lon.all() and in_lat.all()):
            swapped = (
                (x >= LAT_RANGE[0])
                & (x <= LAT_RANGE[1])
                & (y >= LON_RANGE[0])
                & (y <= LON_RANGE[1])
            )
            if swapped.all():
                problems.append(
                    Problem(
                        "coordinates_swapped",
                        _(
                            "Longitude and latitude look swapped: GeoJSON positions are "
                            "[longitude, latitude]."
                        ),
                        index,
                        code,
                        first,
                    )
                )
            else:
                bad = int(np.argmax(~(in_lon & in_lat)))
                problems.append(
                    Problem(
                        "coordinates_out_of_range",
                        _(
                            "Position %(lon)s, %(lat)s is outside China's longitude %(lon0)s–"
                            "%(lon1)s and latitude %(lat0)s–%(lat1)s."
                        )
                        % {
                            "lon": x[bad],
                            "lat": y[bad],
                            "lon0": LON_RANGE[0],
                            "lon1": LON_RANGE[1],
                            "lat0": LAT_RANGE[0],
                            "lat1": LAT_RANGE[1],
                        },
                        index,
                        code,
                        [float(x[bad]), float(y[bad])],
                    )
                )
    return problems


def to_multipolygon(geom: BaseGeometry) -> BaseGeometry:
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in {"Polygon", "MultiPolygon"}]
    polygons: list[Any] = []
    for part in parts:
        polygons.extend(shapely.get_parts(part) if part.geom_type == "MultiPolygon" else [part])
    return shapely.MultiPolygon(polygons)


def parse_geometry(
    index: int, code: str | None, raw: Any, *, repair: bool, repairs: list[Repair]
) -> tuple[BaseGeometry | None, list[Problem]]:
    problems = _ring_problems(index, code, raw, repair)
    if problems:
        return None, problems
    try:
        geom = shapely.geometry.shape(raw)
    except (ValueError, TypeError, shapely.errors.GEOSException) as exc:
        return None, [
            Problem(
                "invalid_geometry",
                _("The geometry cannot be built: %(error)s") % {"error": exc},
                index,
                code,
            )
        ]
    if geom.is_empty:
        return None, [Problem("invalid_geometry", _("The geometry is empty."), index, code)]
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        match = _REASON_LOCATION.search(reason)
        location = [float(match.group(1)), float(match.group(2))] if match else _loc(geom)
        if repair:
            fixed = to_multipolygon(shapely.make_valid(geom))
            repairs.append(
                Repair(
                    index,
                    code,
                    f"make_valid: {reason}",
                    None,
                    area_m2(fixed),
                )
            )
            return fixed, []
        kind = (
            "self_intersection"
            if reason.startswith(("Self-intersection", "Ring Self"))
            else ("invalid_geometry")
        )
        return None, [
            Problem(
                kind,
                _("Invalid geometry: %(reason)s") % {"reason": translate_reason(reason)},
                index,
                code,
                location,
            )
        ]
    return to_multipolygon(geom), []


def translate_reason(reason: str) -> str:
    head = reason.split("[", 1)[0]
    names = {
        "Self-intersection": _("the boundary crosses itself"),
        "Ring Self-intersection": _("a ring touches itself"),
        "Too few points in geometry component": _("too few points"),
        "Hole lies outside shell": _("a hole lies outside its polygon"),
        "Nested shells": _("polygons are nested"),
        "Interior is disconnected": _("the interior is split into pieces"),
    }
    return f"{names.get(head, head)} ({reason})"


def parse_unified(
    raw_features: list[Any], *, repair: bool
) -> tuple[list[Feature], list[Problem], list[Repair]]:
    features: list[Feature] = []
    problems: list[Problem] = []
    repairs: list[Repair] = []
    for index, raw in enumerate(raw_features):
        if not isinstance(raw, dict) or raw.get("type") != "Feature":
            problems.append(Problem("not_geojson", _("This is not a GeoJSON Feature."), index))
            continue
        props = raw.get("properties") or {}
        if not isinstance(props, dict):
            props = {}
        code = str(props.get("code") or "").strip()
        if not code:
            problems.append(Problem("missing_code", _("The feature has no code."), index))
            parse_geometry(index, None, raw.get("geometry"), repair=repair, repairs=repairs)
            continue
        level = CODE_LENGTH_LEVEL.get(len(code))
        if not code.isascii() or not code.isdigit() or level is None:
            problems.append(
                Problem(
                    "malformed_code",
                    _(
                        "Code %(code)s is malformed: region codes have 6 (district), 9 (street), "
                        "12 (community) or 15 (grid) digits."
                    )
                    % {"code": code},
                    index,
                    code,
                )
            )
            continue
        declared = props.get("level")
        if declared and declared != level:
            problems.append(
                Problem(
                    "malformed_code",
                    _("Code %(code)s has %(n)d digits, which is a %(level)s, not a %(declared)s.")
                    % {"code": code, "n": len(code), "level": level, "declared": declared},
                    index,
                    code,
                )
            )
            continue
        name = str(props.get("name") or "").strip()
        if not name:
            problems.append(Problem("missing_name", _("The feature has no name."), index, code))
        parent = props.get("parent")
        parent = str(parent).strip() if parent not in (None, "") else None
        if level != Level.DISTRICT and parent is None:
            parent = code[: len(code) - 3]
        kind = str(props.get("kind") or "")
        if level == Level.GRID:
            kind = kind or GridKind.BASIC
            if kind not in GridKind.values:
                problems.append(
                    Problem(
                        "malformed_kind",
                        _("Grid kind %(kind)s is unknown; use basic or dedicated.")
                        % {"kind": kind},
                        index,
                        code,
                    )
                )
        else:
            kind = ""
        geom, geom_problems = parse_geometry(
            index, code, raw.get("geometry"), repair=repair, repairs=repairs
        )
        problems.extend(geom_problems)
        features.append(Feature(index, code, name, level, parent, kind, geom))
    return features, problems, repairs


# -- the layer as a whole ----------------------------------------------------------------------


def check_codes(features: list[Feature], stored_codes: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, int | None] = {}
    for f in features:
        if f.code in seen:
            problems.append(
                Problem(
                    "duplicate_code",
                    _("Code %(code)s is used twice (also by feature %(other)s).")
                    % {"code": f.code, "other": seen[f.code]},
                    f.index,
                    f.code,
                    _loc(f.geometry),
                )
            )
        else:
            seen[f.code] = f.index
    known = stored_codes | set(seen)
    for f in features:
        if f.parent is None:
            continue
        if not f.code.startswith(f.parent) or len(f.code) != len(f.parent) + 3:
            problems.append(
                Problem(
                    "code_parent_mismatch",
                    _("Code %(code)s does not extend its parent's code %(parent)s by 3 digits.")
                    % {"code": f.code, "parent": f.parent},
                    f.index,
                    f.code,
                    _loc(f.geometry),
                )
            )
        elif f.parent not in known:
            problems.append(
                Problem(
                    "unknown_parent",
                    _("Parent %(parent)s of %(code)s is neither in the file nor stored.")
                    % {"code": f.code, "parent": f.parent},
                    f.index,
                    f.code,
                    _loc(f.geometry),
                )
            )
    return problems


def check_topology(
    merged: dict[str, Feature], affected_parents: Iterable[str] | None = None
) -> list[Problem]:
    """Overlaps between siblings, gaps in a parent, children outside their parent."""
    children: dict[str, list[Feature]] = defaultdict(list)
    for f in merged.values():
        if f.parent is not None and f.geometry is not None:
            children[f.parent].append(f)
    parents = set(children) if affected_parents is None else set(affected_parents) & set(children)
    problems: list[Problem] = []
    for parent_code in sorted(parents):
        kids = sorted(children[parent_code], key=lambda f: f.code)
        problems.extend(_overlaps(kids, settings.OVERLAP_TOLERANCE_M2))
        parent = merged.get(parent_code)
        if parent is None or parent.geometry is None:
            continue
        union = shapely.union_all([k.geometry for k in kids])
        gap = shapely.difference(parent.geometry, union)
        gap_area = area_m2(gap)
        if gap_area > settings.GAP_TOLERANCE_M2:
            biggest = max(shapely.get_parts(gap), key=lambda g: g.area)
            problems.append(
                Problem(
                    "gap",
                    _("%(area).1f m² of %(code)s is covered by none of its children.")
                    % {"area": gap_area, "code": parent_code},
                    parent.index,
                    parent_code,
                    _loc(biggest),
                )
            )
        for kid in kids:
            outside = shapely.difference(kid.geometry, parent.geometry)
            outside_area = area_m2(outside)
            if outside_area > settings.OUTSIDE_TOLERANCE_M2:
                problems.append(
                    Problem(
                        "outside_parent",
                        _("%(area).1f m² of %(code)s lies outside its parent %(parent)s.")
                        % {"area": outside_area, "code": kid.code, "parent": parent_code},
                        kid.index,
                        kid.code,
                        _loc(outside),
                    )
                )
    return problems


def _overlaps(features: list[Feature], tolerance: float) -> list[Problem]:
    if len(features) < 2:
        return []
    geoms = np.array([f.geometry for f in features], dtype=object)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    problems = []
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i >= j:
            continue
        inter = shapely.intersection(geoms[i], geoms[j])
        area = area_m2(to_multipolygon(inter)) if not inter.is_empty else 0.0
        if area > tolerance:
            a, b = features[i], features[j]
            problems.append(
                Problem(
                    "overlap",
                    _("%(a)s and %(b)s overlap by %(area).1f m² (tolerance %(tol)s m²).")
                    % {"a": a.code, "b": b.code, "area": area, "tol": tolerance},
                    b.index if b.index is not None else a.index,
                    b.code,
                    _loc(inter),
                )
            )
    return problems


def parse_department(
    raw_features: list[Any], *, repair: bool
) -> tuple[list[Feature], list[Problem], list[Repair]]:
    features: list[Feature] = []
    problems: list[Problem] = []
    repairs: list[Repair] = []
    lo, hi = settings.DEPARTMENT_CODE_MIN_LENGTH, settings.DEPARTMENT_CODE_MAX_LENGTH
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_features):
        if not isinstance(raw, dict) or raw.get("type") != "Feature":
            problems.append(Problem("not_geojson", _("This is not a GeoJSON Feature."), index))
            continue
        props = raw.get("properties") or {}
        if not isinstance(props, dict):
            props = {}
        code = str(props.get("code") or "").strip()
        if not code:
            problems.append(Problem("missing_code", _("The feature has no code."), index))
            continue
        if not re.fullmatch(r"[0-9A-Z-]+", code) or not lo <= len(code) <= hi:
            problems.append(
                Problem(
                    "malformed_code",
                    _(
                        "Department grid code %(code)s is malformed: use %(lo)d–%(hi)d digits, "
                        "capital letters or hyphens."
                    )
                    % {"code": code, "lo": lo, "hi": hi},
                    index,
                    code,
                )
            )
            continue
        if code in seen:
            problems.append(
                Problem(
                    "duplicate_code",
                    _("Code %(code)s is used twice (also by feature %(other)s).")
                    % {"code": code, "other": seen[code]},
                    index,
                    code,
                )
            )
            continue
        seen[code] = index
        geom, geom_problems = parse_geometry(
            index, code, raw.get("geometry"), repair=repair, repairs=repairs
        )
        problems.extend(geom_problems)
        name = str(props.get("name") or "").strip()
        features.append(Feature(index, code, name, None, None, "", geom))
    valid = [f for f in features if f.geometry is not None]
    problems.extend(_overlaps(valid, settings.OVERLAP_TOLERANCE_M2))
    return features, problems, repairs
