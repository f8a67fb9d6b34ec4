"""Reads of regions. Scoped reads take the actor; `…_unscoped` ones are for the system only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet

from wangge.core.errors import NotFound
from wangge.core.roles import Perm
from wangge.core.scope import access, as_scope
from wangge.regions.models import Boundary, Crosswalk, DepartmentGrid, Layer, Level, Region


def region_list(
    *, actor: Any, level: str | None = None, parent_code: str | None = None, q: str = ""
) -> QuerySet[Region]:
    qs = Region.objects.visible_to(actor, Perm.REGIONS_VIEW).filter(valid_to=None)
    if level:
        qs = qs.filter(level=level)
    if parent_code:
        qs = qs.filter(parent__code=parent_code)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__startswith=q))
    return qs.select_related("parent").order_by("code")


def region_get(*, actor: Any, code: str) -> Region:
    """The region with this code, or NotFound when missing or outside the actor's scope."""
    return access(
        Region.objects.select_related("parent", "parent__parent", "parent__parent__parent"),
        actor,
        Perm.REGIONS_VIEW,
        code=code,
    )


def region_ancestors(region: Region) -> list[Region]:
    chain = []
    node = region.parent
    while node is not None:
        chain.append(node)
        node = node.parent
    return list(reversed(chain))


def region_roots(*, actor: Any) -> QuerySet[Region]:
    """The top nodes of the actor's scope (the district for district staff, a street …)."""
    roots = as_scope(actor).roots(Perm.REGIONS_VIEW)
    return (
        Region.objects.visible_to(actor, Perm.REGIONS_VIEW)
        .filter(code__in=roots, valid_to=None)
        .order_by("code")
    )


def region_children_with_counts(*, actor: Any, region: Region) -> list[dict[str, Any]]:
    """Children of a visible region with the number of current grids under each."""
    children = list(
        Region.objects.visible_to(actor, Perm.REGIONS_VIEW)
        .filter(parent=region, valid_to=None)
        .order_by("code")
    )
    grid_counts = grid_counts_by_prefix(actor=actor, prefixes=[c.code for c in children])
    return [{"region": c, "grids": grid_counts.get(c.code, 0)} for c in children]


def grid_counts_by_prefix(*, actor: Any, prefixes: list[str]) -> dict[str, int]:
    if not prefixes:
        return {}
    codes = (
        Region.objects.visible_to(actor, Perm.REGIONS_VIEW)
        .filter(
            level=Level.GRID, valid_to=None, code__gte=min(prefixes), code__lt=max(prefixes) + ":"
        )
        .values_list("code", flat=True)
    )
    counts = dict.fromkeys(prefixes, 0)
    for code in codes:
        for prefix in prefixes:
            if code.startswith(prefix):
                counts[prefix] += 1
    return counts


def region_counts(*, actor: Any) -> dict[str, int]:
    rows = (
        Region.objects.visible_to(actor, Perm.REGIONS_VIEW)
        .filter(valid_to=None)
        .values("level")
        .annotate(n=Count("id"))
    )
    return {row["level"]: row["n"] for row in rows}


def boundary_current(region: Region) -> Boundary | None:
    return Boundary.objects.filter(region=region, valid_to=None).first()


def boundary_history(region: Region) -> list[Boundary]:
    return list(Boundary.objects.filter(region=region).order_by("valid_from"))


def boundary_at(region: Region, at: datetime) -> Boundary | None:
    return (
        Boundary.objects.filter(region=region, valid_from__lte=at)
        .filter(Q(valid_to=None) | Q(valid_to__gt=at))
        .first()
    )


def grid_boundaries(
    *, actor: Any, bbox: tuple[float, float, float, float] | None = None, level: str = "grid"
) -> QuerySet[Boundary]:
    """Current boundaries of visible regions of one level, optionally within a bounding box."""
    regions = Region.objects.visible_to(actor, Perm.REGIONS_VIEW).filter(level=level, valid_to=None)
    qs = Boundary.objects.filter(valid_to=None, region__in=regions).select_related("region")
    if bbox:
        min_lon, min_lat, max_lon, max_lat = bbox
        qs = qs.filter(
            max_lon__gte=min_lon, min_lon__lte=max_lon, max_lat__gte=min_lat, min_lat__lte=max_lat
        )
    return qs.order_by("region__code")


def layer_list() -> QuerySet[Layer]:
    return Layer.objects.select_related("department").order_by("slug")


def layer_get(slug: str) -> Layer:
    from wangge.core.errors import NotFound

    layer = Layer.objects.filter(slug=slug).first()
    if layer is None:
        raise NotFound()
    return layer


def crosswalk_for_grid(*, actor: Any, grid: Region) -> list[Crosswalk]:
    """Department grids overlapping a visible unified grid (the caller fetched `grid` scoped)."""
    return list(
        Crosswalk.objects.filter(grid=grid, department_grid__valid_to=None)
        .select_related("department_grid", "department_grid__layer")
        .order_by("department_grid__layer__slug", "-share")
    )


def straddling_grids(*, actor: Any, layer: Layer, threshold: float) -> list[dict[str, Any]]:
    """Department grids of a layer that no single unified grid holds `threshold` of."""
    grids = (
        DepartmentGrid.objects.visible_to(actor, Perm.REGIONS_VIEW)
        .filter(layer=layer, valid_to=None)
        .prefetch_related("crosswalk__grid")
        .order_by("code")
    )
    report = []
    for dept_grid in grids:
        parts = sorted(dept_grid.crosswalk.all(), key=lambda c: -c.share)
        if not parts or parts[0].share < threshold:
            report.append(
                {
                    "code": dept_grid.code,
                    "name": dept_grid.name,
                    "parts": [
                        {"grid": p.grid.code, "name": p.grid.name, "share": round(p.share, 4)}
                        for p in parts
                    ],
                }
            )
    return report


def neighbours(*, actor: Any, grid: Region) -> list[Region]:
    """Visible current grids sharing an edge with `grid` (from the cached locate index)."""
    import shapely

    from wangge.regions.locate import grid_index

    index = grid_index()
    position = index.position(grid.code)
    if position is None:
        return []
    geoms = index.polygons.geoms
    hits = index.tree().query(geoms[position], predicate="intersects")
    touching = [
        str(index.codes[j])
        for j in hits.tolist()
        if j != position and shapely.intersection(geoms[position], geoms[j]).length > 0
    ]
    return list(
        Region.objects.visible_to(actor, Perm.REGIONS_VIEW)
        .filter(code__in=touching)
        .order_by("code")
    )


# -- system reads ------------------------------------------------------------------------------


def boundaries_unscoped(*, level: str, at: datetime | None = None) -> list[tuple[str, str]]:
    qs = Boundary.objects.filter(region__level=level)
    if at is None:
        qs = qs.filter(valid_to=None)
    else:
        qs = qs.filter(valid_from__lte=at).filter(Q(valid_to=None) | Q(valid_to__gt=at))
    return list(qs.order_by("region__code").values_list("region__code", "geojson"))


def region_names_unscoped() -> dict[str, str]:
    return dict(
        Region.objects.dangerously_unscoped().filter(valid_to=None).values_list("code", "name")
    )


def interior_point(code: str) -> tuple[float, float]:
    """A point surely inside a region's current boundary (for tests, demos and forms)."""
    import shapely

    boundary = (
        Boundary.objects.filter(region__code=code, valid_to=None).values_list("geojson", flat=True)
    ).first()
    if boundary is None:
        raise NotFound()
    point = shapely.from_geojson(boundary).representative_point()
    return float(point.x), float(point.y)
