"""Factories for regions: a small district of boxes, imported through the real importer."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from wangge.core.scope import Scope
from wangge.regions.services import grids_import


def box(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


@dataclass
class CommunitySpec:
    code: str  # 12 digits
    name: str
    grids: list[str]  # the last three digits of each grid, west → east


@dataclass
class StreetSpec:
    code: str  # 9 digits
    name: str
    communities: list[CommunitySpec] = field(default_factory=list)


def district_layer(
    code: str,
    name: str,
    streets: list[StreetSpec],
    *,
    origin: tuple[float, float] = (113.10, 22.50),
    cell: float = 0.01,
) -> dict[str, Any]:
    """A GeoJSON layer that tessellates exactly: each community is a row of grid cells, stacked
    north → south inside its street's column; streets sit side by side, west → east."""
    x0, y0 = origin
    features: list[dict[str, Any]] = []
    width = max(len(c.grids) for s in streets for c in s.communities) * cell
    height = max(len(s.communities) for s in streets) * cell
    for si, street in enumerate(streets):
        sx0 = x0 + si * width
        for ci, community in enumerate(street.communities):
            cy1 = y0 + height - ci * cell
            n = len(community.grids)
            step = width / n
            for gi, seq in enumerate(community.grids):
                features.append(
                    _feature(
                        f"{community.code}{seq}",
                        f"{community.name}第{int(seq)}网格",
                        box(sx0 + gi * step, cy1 - cell, sx0 + (gi + 1) * step, cy1),
                        kind="basic",
                    )
                )
            features.append(
                _feature(community.code, community.name, box(sx0, cy1 - cell, sx0 + width, cy1))
            )
        rows = len(street.communities)
        features.append(
            _feature(
                street.code,
                street.name,
                box(sx0, y0 + height - rows * cell, sx0 + width, y0 + height),
            )
        )
    features.append(_feature(code, name, _district_shape(streets, x0, y0, width, height, cell)))
    return {"type": "FeatureCollection", "features": features}


def _district_shape(
    streets: list[StreetSpec], x0: float, y0: float, width: float, height: float, cell: float
) -> dict[str, Any]:
    import shapely
    from shapely.geometry import box as sbox

    parts = [
        sbox(
            x0 + i * width,
            y0 + height - len(s.communities) * cell,
            x0 + (i + 1) * width,
            y0 + height,
        )
        for i, s in enumerate(streets)
    ]
    merged = shapely.union_all(parts)
    return json.loads(shapely.to_geojson(merged))


def _feature(code: str, name: str, geometry: Any, **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name, **props},
        "geometry": geometry,
    }


def import_layer(layer: dict[str, Any]) -> None:
    report = grids_import(
        actor=Scope.system("test"), data=json.dumps(layer, ensure_ascii=False).encode()
    )
    if not report.ok:
        raise AssertionError(report.as_dict()["problems"][:5])


def department_layer(slug: str, name: str, streets: list[StreetSpec]) -> None:
    """A department's legacy layer: one department grid per street of the unified layer, each
    exactly on its street (so every department grid lies wholly in the unified grids)."""
    from wangge.core.models import Department
    from wangge.regions.services import layer_create

    system = Scope.system("test")
    layer_create(
        actor=system, slug=slug, name=name, department=Department.objects.filter(code=slug).first()
    )
    unified = {
        f["properties"]["code"]: f["geometry"]
        for f in district_layer("440704", "", streets)["features"]
    }
    features = [
        _feature(f"{street.code}{n:04d}", f"{name}{street.name}网格", unified[street.code])
        for n, street in enumerate(streets, start=1)
    ]
    report = grids_import(
        actor=system,
        data=json.dumps({"type": "FeatureCollection", "features": features}).encode(),
        layer=slug,
    )
    if not report.ok:
        raise AssertionError(report.as_dict()["problems"][:5])
