from __future__ import annotations

import json
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from wangge.core.api import ERRORS, actor
from wangge.core.errors import ValidationFailed
from wangge.core.geo import Crs
from wangge.regions import selectors

router = Router(tags=["regions"])


class RegionOut(Schema):
    code: str
    name: str
    level: str
    kind: str
    parent: str | None

    @staticmethod
    def resolve_parent(obj: Any) -> str | None:
        if isinstance(obj, dict):
            return obj.get("parent")
        return obj.parent.code if obj.parent_id else None


class RegionPage(Schema):
    count: int
    items: list[RegionOut]


class RegionFilter(Schema):
    level: Literal["district", "street", "community", "grid"] | None = None
    parent: str | None = None
    q: str = ""
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=10_000_000)


@router.get("/regions", response={200: RegionPage, **ERRORS}, summary="Regions in scope")
def regions(request: HttpRequest, filters: Query[RegionFilter]) -> Any:
    qs = selectors.region_list(
        actor=actor(request), level=filters.level, parent_code=filters.parent, q=filters.q
    )
    return {"count": qs.count(), "items": list(qs[filters.offset : filters.offset + filters.limit])}


class CrosswalkOut(Schema):
    layer: str
    code: str
    name: str
    share: float


class RegionDetailOut(RegionOut):
    area_m2: float | None
    boundary: dict[str, Any] | None
    ancestors: list[RegionOut]
    children: list[RegionOut]
    neighbours: list[RegionOut]
    crosswalk: list[CrosswalkOut]
    boundary_versions: int


@router.get(
    "/regions/{code}", response={200: RegionDetailOut, **ERRORS}, summary="One region in scope"
)
def region_detail(request: HttpRequest, code: str) -> Any:
    who = actor(request)
    region = selectors.region_get(actor=who, code=code)
    boundary = selectors.boundary_current(actor=who, region=region)
    is_grid = region.level == "grid"
    return {
        "code": region.code,
        "name": region.name,
        "level": region.level,
        "kind": region.kind,
        "parent": region.parent.code if region.parent else None,
        "area_m2": boundary.area_m2 if boundary else None,
        "boundary": json.loads(boundary.geojson) if boundary else None,
        "ancestors": selectors.region_ancestors(actor=who, region=region),
        "children": list(selectors.region_list(actor=who, parent_code=region.code)),
        "neighbours": selectors.neighbours(actor=who, grid=region) if is_grid else [],
        "crosswalk": [
            {
                "layer": c.department_grid.layer.slug,
                "code": c.department_grid.code,
                "name": c.department_grid.name,
                "share": round(c.share, 4),
            }
            for c in (selectors.crosswalk_for_grid(actor=who, grid=region) if is_grid else [])
        ],
        "boundary_versions": len(selectors.boundary_history(actor=who, region=region)),
    }


class LocateOut(Schema):
    lon: float
    lat: float
    crs: str
    grid: RegionOut
    community: RegionOut | None
    street: RegionOut | None


@router.get(
    "/locate",
    response={200: LocateOut, **ERRORS},
    summary="Which grid holds this point",
    description="lon/lat in WGS-84/CGCS2000 by default; crs=gcj02 (Amap, Tencent) or bd09 "
    "(Baidu) are converted first. A point outside every grid, or in a grid outside the "
    "caller's scope, is 404.",
)
def locate(
    request: HttpRequest,
    lon: float = Query(..., ge=-180, le=180),
    lat: float = Query(..., ge=-90, le=90),
    crs: Crs = Crs.WGS84,
) -> Any:
    who = actor(request)
    grid = selectors.locate_point(actor=who, lon=lon, lat=lat, crs=crs)
    parents = {r.code: r for r in selectors.region_ancestors(actor=who, region=grid)}
    return {
        "lon": lon,
        "lat": lat,
        "crs": crs.value,
        "grid": grid,
        "community": parents.get(grid.code[:12]),
        "street": parents.get(grid.code[:9]),
    }


@router.get(
    "/grids.geojson",
    response={200: dict[str, Any], **ERRORS},
    summary="Grid boundaries in scope as GeoJSON (for the map)",
)
def grids_geojson(
    request: HttpRequest,
    bbox: str = Query("", description="min_lon,min_lat,max_lon,max_lat"),
    level: Literal["district", "street", "community", "grid"] = "grid",
) -> Any:
    box = None
    if bbox:
        try:
            parts = [float(v) for v in bbox.split(",")]
        except ValueError:
            parts = []
        if len(parts) != 4:
            raise ValidationFailed(_("bbox needs four numbers: min_lon,min_lat,max_lon,max_lat"))
        box = (parts[0], parts[1], parts[2], parts[3])
    boundaries = list(selectors.grid_boundaries(actor=actor(request), bbox=box, level=level))
    points = label_points([b.geojson for b in boundaries])
    features = [
        {
            "type": "Feature",
            "properties": {
                "code": b.region.code,
                "name": b.region.name,
                "kind": b.region.kind,
                "area_m2": round(b.area_m2, 1),
                "label": point,
            },
            "geometry": json.loads(b.geojson),
        }
        for b, point in zip(boundaries, points, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def label_points(geojsons: list[str]) -> list[list[float]]:
    """Where each region's name goes on the map: a point surely inside it (a bay-shaped village's
    centre may lie outside), all at once."""
    import shapely

    if not geojsons:
        return []
    surface = shapely.point_on_surface(shapely.from_geojson(geojsons))
    coords = shapely.get_coordinates(surface)
    return [[round(float(x), 6), round(float(y), 6)] for x, y in coords]


class LayerOut(Schema):
    slug: str
    name: str
    department: str | None

    @staticmethod
    def resolve_department(obj: Any) -> str | None:
        return obj.department.code if obj.department_id else None


@router.get("/layers", response={200: list[LayerOut], **ERRORS}, summary="Department layers")
def layers(request: HttpRequest) -> Any:
    return list(selectors.layer_list(actor=actor(request)))


class StraddleOut(Schema):
    code: str
    name: str
    parts: list[dict[str, Any]]


@router.get(
    "/layers/{slug}/straddling",
    response={200: list[StraddleOut], **ERRORS},
    summary="Department grids that straddle several unified grids",
)
def straddling(request: HttpRequest, slug: str, threshold: float = Query(0.95, gt=0, le=1)) -> Any:
    who = actor(request)
    layer = selectors.layer_get(actor=who, slug=slug)
    return selectors.straddling_grids(actor=who, layer=layer, threshold=threshold)
