"""Reads of regions. Scoped reads take the actor; `…_unscoped` ones are for the system only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from wangge.core.errors import NotFound, ValidationFailed
from wangge.core.roles import Perm
from wangge.core.scope import Scope, access, as_scope, require_any
from wangge.regions.models import (
    Boundary,
    Crosswalk,
    DepartmentGrid,
    Layer,
    Level,
    Region,
    Succession,
)


def regions_visible(*, actor: Any) -> Scope:
    """The actor's scope if regions exist for them at all; NotFound otherwise."""
    return require_any(actor, Perm.REGIONS_VIEW)


def region_list(
    *, actor: Any, level: str | None = None, parent_code: str | None = None, q: str = ""
) -> QuerySet[Region]:
    qs = Region.objects.visible_to(regions_visible(actor=actor), Perm.REGIONS_VIEW).filter(
        valid_to=None
    )
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


def region_names(*, actor: Any, codes: Iterable[str]) -> dict[str, str]:
    """The names of the regions among `codes` that the actor sees, in one query (a list page
    calls it once for all its rows). A code the actor may not see is left out, so the page
    shows the code alone; so is a code of no region."""
    wanted = {c for c in codes if c and len(c) <= 15}
    if not wanted:
        return {}
    return dict(
        Region.objects.visible_to(as_scope(actor), Perm.REGIONS_VIEW)
        .filter(code__in=wanted)
        .values_list("code", "name")
    )


def region_codes_named(*, actor: Any, text: str, limit: int = 50) -> list[str]:
    """The codes of the current regions the actor sees whose name contains `text` ("英南村",
    "第1网格") or whose code starts with it, widest first: what a filter box typed with a name
    means. Empty when nothing matches."""
    text = text.strip()
    if not text:
        return []
    qs = Region.objects.visible_to(as_scope(actor), Perm.REGIONS_VIEW).filter(
        Q(name__icontains=text) | Q(code__startswith=text), valid_to=None
    )
    codes = sorted(qs.values_list("code", flat=True)[:limit], key=lambda c: (len(c), c))
    # A community and its grids both match "英南村": the community covers its grids.
    kept: list[str] = []
    for code in codes:
        if not any(code.startswith(k) for k in kept):
            kept.append(code)
    return kept


def region_filter_q(*, actor: Any, text: str, field: str = "grid_code") -> Q:
    """A region filter as typed: a code (or the start of one) as it is; a name ("英南村",
    "英南村第1网格") as the codes of the regions the actor sees by that name. ValidationFailed
    (with a hint) when no region has that name, rather than an empty list that says nothing."""
    text = text.strip()
    if text.isdigit():
        return _under(field, text)
    codes = region_codes_named(actor=actor, text=text)
    if not codes:
        raise ValidationFailed(
            _("No region is named “%(text)s”. Type part of a name (英南村, 第1网格) or a code.")
            % {"text": text[:50]},
            code="no_such_region",
            details={"grid": text[:50]},
        )
    inside = Q(pk__in=[])
    for code in codes:
        inside |= _under(field, code)
    return inside


def _under(field: str, code: str) -> Q:
    # A range rather than LIKE 'code%': the plain index on the code serves it on both databases.
    return Q(**{f"{field}__gte": code, f"{field}__lt": code + ":"})


def region_ancestors(*, actor: Any, region: Region) -> list[Region]:
    """The visible ancestors of a region the actor fetched in scope, top first."""
    scope = as_scope(actor)
    chain = []
    node = region.parent
    while node is not None:
        if scope.holds_for(Perm.REGIONS_VIEW, node):
            chain.append(node)
        node = node.parent
    return list(reversed(chain))


def region_path_names(*, actor: Any, code: str) -> list[str]:
    """Names from the top of the actor's view down to the region `code` (its own name last);
    the code itself when the actor may not see the region."""
    try:
        region = region_get(actor=actor, code=code)
    except NotFound:
        return [code]
    return [r.name for r in region_ancestors(actor=actor, region=region)] + [region.name]


def region_roots(*, actor: Any) -> QuerySet[Region]:
    """The top nodes of the actor's scope (the district for district staff, a street …)."""
    roots = regions_visible(actor=actor).roots(Perm.REGIONS_VIEW)
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


def _boundaries(actor: Any) -> QuerySet[Boundary]:
    return Boundary.objects.visible_to(actor, Perm.REGIONS_VIEW)


def region_counts_if_visible(*, actor: Any) -> dict[str, int]:
    """Regions by level (the start page), or nothing for an actor without regions."""
    if not as_scope(actor).has(Perm.REGIONS_VIEW):
        return {}
    return region_counts(actor=actor)


def boundary_current(*, actor: Any, region: Region) -> Boundary | None:
    return _boundaries(actor).filter(region=region, valid_to=None).first()


def boundary_current_geojson(*, actor: Any, code: str) -> str | None:
    """The current boundary of the region `code` as GeoJSON text, if the actor sees it."""
    return (
        _boundaries(actor)
        .filter(region__code=code, valid_to=None)
        .values_list("geojson", flat=True)
        .first()
    )


def boundary_history(*, actor: Any, region: Region) -> list[Boundary]:
    return list(_boundaries(actor).filter(region=region).order_by("valid_from"))


def boundary_at(*, actor: Any, region: Region, at: datetime) -> Boundary | None:
    return (
        _boundaries(actor)
        .filter(region=region, valid_from__lte=at)
        .filter(Q(valid_to=None) | Q(valid_to__gt=at))
        .first()
    )


def grid_boundaries(
    *, actor: Any, bbox: tuple[float, float, float, float] | None = None, level: str = "grid"
) -> QuerySet[Boundary]:
    """Current boundaries of visible regions of one level, optionally within a bounding box."""
    qs = (
        _boundaries(regions_visible(actor=actor))
        .filter(valid_to=None, region__level=level, region__valid_to=None)
        .select_related("region")
    )
    if bbox:
        min_lon, min_lat, max_lon, max_lat = bbox
        qs = qs.filter(
            max_lon__gte=min_lon, min_lon__lte=max_lon, max_lat__gte=min_lat, min_lat__lte=max_lat
        )
    return qs.order_by("region__code")


def public_grid_outlines(*, actor: Any) -> list[tuple[str, str, str]]:
    """(code, name, GeoJSON) of every current grid, for the residents' map: grid names and
    outlines are posted publicly anyway (滨州 regulation); no people, no counts."""
    rows = (
        Boundary.objects.visible_to(actor, Perm.REGIONS_PUBLIC_OUTLINE)
        .order_by("region__code")
        .values_list("region__code", "region__name", "geojson")
    )
    return list(rows)


def layer_list(*, actor: Any) -> QuerySet[Layer]:
    regions_visible(actor=actor)
    return Layer.objects.select_related("department").order_by("slug")


def layer_list_unscoped() -> QuerySet[Layer]:
    return Layer.objects.select_related("department").order_by("slug")


def layer_get(*, actor: Any, slug: str) -> Layer:
    regions_visible(actor=actor)
    layer = Layer.objects.filter(slug=slug).first()
    if layer is None:
        raise NotFound()
    return layer


def crosswalk_for_grid(*, actor: Any, grid: Region) -> list[Crosswalk]:
    """Department grids overlapping a visible unified grid (the caller fetched `grid` scoped)."""
    return list(
        Crosswalk.objects.visible_to(actor, Perm.REGIONS_VIEW)
        .filter(grid=grid, department_grid__valid_to=None)
        .select_related("department_grid", "department_grid__layer")
        .order_by("department_grid__layer__slug", "-share")
    )


def straddling_grids(*, actor: Any, layer: Layer, threshold: float) -> list[dict[str, Any]]:
    """Department grids of a layer that no single unified grid holds `threshold` of."""
    grids = (
        DepartmentGrid.objects.visible_to(actor, Perm.REGIONS_VIEW)
        .filter(layer=layer, valid_to=None)
        .prefetch_related(
            Prefetch(
                "crosswalk",
                queryset=Crosswalk.objects.visible_to(actor, Perm.REGIONS_VIEW).select_related(
                    "grid"
                ),
            )
        )
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


def locate_point(*, actor: Any, lon: float, lat: float, crs: Any) -> Region:
    """The grid holding a point (WGS-84, or GCJ-02/BD-09 converted), if the actor sees it;
    NotFound (with its own code) outside every grid, and plain NotFound out of scope."""
    from django.utils.translation import gettext as _

    from wangge.regions.locate import grid_index

    index = grid_index()
    codes = index.codes_for(index.locate([lon], [lat], crs))
    if codes[0] is None:
        raise NotFound(_("This point lies outside every grid."), code="outside_grids")
    return region_get(actor=actor, code=codes[0])


def successions(*, actor: Any, code: str) -> dict[str, list[Succession]]:
    """What a visible region `code` came from and what it became, in time order (renames are
    successions from the code to itself)."""
    rows = Succession.objects.visible_to(regions_visible(actor=actor), Perm.REGIONS_VIEW)
    return {
        "came_from": list(rows.filter(new_code=code).exclude(old_code=code).order_by("at")),
        "became": list(rows.filter(old_code=code).exclude(new_code=code).order_by("at")),
        "renamed": list(rows.filter(old_code=code, new_code=code).order_by("at")),
    }


def grid_history(*, actor: Any, code: str, on: dt.date) -> dict[str, Any]:
    """Which grid `code` was on the day `on` (its state at the start of that day): whether it
    existed, its name and boundary version then, what it came from, what it became and the
    current codes its area lies in now. NotFound when the actor does not see the code."""
    from wangge.core.dates import day_start

    region = region_get(actor=actor, code=code)
    at = day_start(on)
    existed = region.valid_from <= at and (region.valid_to is None or at < region.valid_to)
    links = successions(actor=actor, code=code)
    later_rename = next((s for s in links["renamed"] if s.at > at), None)
    boundary = boundary_at(actor=actor, region=region, at=at)
    return {
        "code": region.code,
        "on": on.isoformat(),
        "existed": existed,
        "name": later_rename.old_name if later_rename else region.name,
        "name_now": region.name,
        "level": region.level,
        "parent": region.parent.code if region.parent else None,
        "valid_from": region.valid_from.isoformat(),
        "valid_to": region.valid_to.isoformat() if region.valid_to else None,
        "boundary": (
            {
                "id": boundary.pk,
                "valid_from": boundary.valid_from.isoformat(),
                "valid_to": boundary.valid_to.isoformat() if boundary.valid_to else None,
                "area_m2": round(boundary.area_m2, 1),
            }
            if boundary
            else None
        ),
        "came_from": [_link(s, s.old_code, s.old_name) for s in links["came_from"]],
        "became": [_link(s, s.new_code, s.new_name) for s in links["became"]],
        "renamed": [
            {"at": s.at.isoformat(), "old_name": s.old_name, "new_name": s.new_name}
            for s in links["renamed"]
        ],
        "now": _current_codes(actor, region),
    }


def _link(row: Succession, code: str, name: str) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "at": row.at.isoformat(),
        "operation": row.operation,
        "share": row.share,
    }


def _current_codes(actor: Any, region: Region) -> list[str]:
    """The current codes that hold the area of `region` now (itself while it is current),
    following successions through later restructures."""
    if region.valid_to is None:
        return [region.code]
    rows = Succession.objects.visible_to(actor, Perm.REGIONS_VIEW)
    found: set[str] = set()
    frontier, seen = {region.code}, {region.code}
    while frontier:
        following = set(
            rows.filter(old_code__in=frontier)
            .exclude(new_code__in=seen)
            .values_list("new_code", flat=True)
        )
        current = set(
            Region.objects.visible_to(actor, Perm.REGIONS_VIEW)
            .filter(code__in=following, valid_to=None)
            .values_list("code", flat=True)
        )
        found |= current
        seen |= following
        frontier = following - current
    return sorted(found)


# -- system reads ------------------------------------------------------------------------------


def boundaries_unscoped(*, level: str, at: datetime | None = None) -> list[tuple[str, str]]:
    qs = Boundary.objects.dangerously_unscoped().filter(region__level=level)
    if at is None:
        qs = qs.filter(valid_to=None)
    else:
        qs = qs.filter(valid_from__lte=at).filter(Q(valid_to=None) | Q(valid_to__gt=at))
    return list(qs.order_by("region__code").values_list("region__code", "geojson"))


def region_names_unscoped(codes: Iterable[str] | None = None) -> dict[str, str]:
    """The current regions' names by code (only those of `codes` when given: a dashboard
    panel needs a few of a city's thousands)."""
    qs = Region.objects.dangerously_unscoped().filter(valid_to=None)
    wanted = set(codes) if codes is not None else None
    if wanted is not None and len(wanted) <= 500:
        qs = qs.filter(code__in=sorted(wanted))
    # (Thousands of codes: reading every name is cheaper than binding thousands of parameters.)
    return dict(qs.values_list("code", "name"))


def interior_point_unscoped(code: str) -> tuple[float, float]:
    """A point surely inside a region's current boundary (for tests, demos and forms)."""
    import shapely

    boundary = (
        Boundary.objects.dangerously_unscoped()
        .filter(region__code=code, valid_to=None)
        .values_list("geojson", flat=True)
    ).first()
    if boundary is None:
        raise NotFound()
    point = shapely.from_geojson(boundary).representative_point()
    return float(point.x), float(point.y)


def grids_under(*, actor: Any, codes: list[str], perm: Perm = Perm.REGIONS_VIEW) -> list[Region]:
    """The current grids inside any of `codes` (a district, streets, communities or grids)
    that the actor sees with `perm`, in code order."""
    if not codes:
        return []
    inside = Q(pk__in=[])
    for code in codes:
        inside |= Q(code__startswith=code)
    return list(
        Region.objects.visible_to(as_scope(actor), perm)
        .filter(inside, level=Level.GRID, valid_to=None)
        .order_by("code")
    )


def audit_names_unscoped(ids: list[str]) -> dict[str, str]:
    """Region names by code, for the audit log."""
    rows = Region.objects.dangerously_unscoped().filter(code__in=ids)
    return dict(rows.values_list("code", "name"))


# -- what the modules above know about a grid --------------------------------------------------

# The grid page shows what is in the grid (residents, organisations, open events …): each
# module above regions registers a function (from its AppConfig.ready) that answers with its
# own selectors for the actor — [(label, count, url or "")], or [] where it shows nothing to
# them. Regions imports none of them.
GridFigures = Callable[[Any, str], "list[tuple[str, int, str]]"]
_GRID_FIGURES: dict[str, GridFigures] = {}


def register_grid_figures(name: str, fn: GridFigures) -> None:
    _GRID_FIGURES[name] = fn


def grid_figures_of(*, actor: Any, code: str) -> list[tuple[str, int, str]]:
    rows: list[tuple[str, int, str]] = []
    for fn in _GRID_FIGURES.values():
        rows.extend(fn(actor, code))
    return rows
