"""Writes to regions: importing layers (all-or-nothing), boundary versions, crosswalks."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import shapely
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from shapely.geometry.base import BaseGeometry

from wangge.core.audit import audit_record
from wangge.core.errors import NotFound, ValidationFailed
from wangge.core.geo import area_m2
from wangge.core.models import Department, Grant, User
from wangge.core.roles import Perm, Role
from wangge.core.scope import as_scope, require_any
from wangge.core.services import grant_create
from wangge.regions import checks
from wangge.regions.checks import Feature, Problem, Repair
from wangge.regions.models import (
    Boundary,
    BoundaryRevision,
    Crosswalk,
    DepartmentGrid,
    Layer,
    Level,
    Region,
)

UNIFIED = "unified"


@dataclass
class ImportReport:
    ok: bool
    layer: str
    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    repairs: list[Repair] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "layer": self.layer,
            "dry_run": self.dry_run,
            "counts": self.counts,
            "problems": [p.as_dict() for p in self.problems],
            "repairs": [r.as_dict() for r in self.repairs],
        }


def _geojson(geom: BaseGeometry) -> str:
    return str(shapely.to_geojson(geom))


def _same_geometry(a: BaseGeometry, b: BaseGeometry) -> bool:
    return bool(shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), tolerance=1e-10))


def stored_features() -> dict[str, Feature]:
    """Current regions with their current boundaries, as check features."""
    boundaries = dict(
        Boundary.objects.dangerously_unscoped()
        .filter(valid_to=None)
        .values_list("region__code", "geojson")
    )
    features = {}
    for region in (
        Region.objects.dangerously_unscoped().filter(valid_to=None).select_related("parent")
    ):
        raw = boundaries.get(region.code)
        features[region.code] = Feature(
            index=None,
            code=region.code,
            name=region.name,
            level=Level(region.level),
            parent=region.parent.code if region.parent else None,
            kind=region.kind,
            geometry=shapely.from_geojson(raw) if raw else None,
        )
    return features


def grids_import(
    *,
    actor: Any,
    data: bytes,
    layer: str = UNIFIED,
    dry_run: bool = False,
    repair: bool = False,
    source: str = "",
    valid_from: datetime | None = None,
) -> ImportReport:
    """Import a GeoJSON layer: all or nothing. Every problem is reported; none is fixed silently.

    For the unified layer, features may be districts, streets, communities or grids (level from
    the code's length). A changed boundary closes the current version and opens a new one at
    `valid_from` (default now), so history stays queryable.
    """
    require_any(actor, Perm.REGIONS_MANAGE)
    raw_features, problems = checks.read_feature_collection(data)
    report = ImportReport(ok=False, layer=layer, dry_run=dry_run, problems=problems)
    if problems:
        return report
    if layer == UNIFIED:
        _import_unified(report, raw_features, actor, repair, source, valid_from)
    else:
        _import_department(report, raw_features, actor, layer, repair, valid_from)
    return report


def _import_unified(
    report: ImportReport,
    raw_features: list[Any],
    actor: Any,
    repair: bool,
    source: str,
    valid_from: datetime | None,
) -> None:
    features, problems, repairs = checks.parse_unified(raw_features, repair=repair)
    report.repairs = repairs
    scope = as_scope(actor)
    for f in features:
        # A district administrator manages their own district's tree, never another's.
        if f.code and not scope.holds(Perm.REGIONS_MANAGE, f.code):
            problems.append(
                Problem(
                    "outside_scope",
                    _("%(code)s lies outside the area you manage.") % {"code": f.code},
                    f.index,
                    f.code,
                )
            )
    stored = stored_features()
    problems += checks.check_codes(features, set(stored))
    closed = set(
        Region.objects.dangerously_unscoped()
        .filter(code__in=[f.code for f in features], valid_to__isnull=False)
        .values_list("code", flat=True)
    )
    for f in features:
        # A restructure closed it: codes are never reused (and the row exists, closed).
        if f.code in closed:
            problems.append(
                Problem(
                    "closed_code",
                    _("Code %(code)s was closed by a restructure; codes are never reused.")
                    % {"code": f.code},
                    f.index,
                    f.code,
                )
            )
    merged = dict(stored)
    for f in features:
        merged[f.code] = f
    affected = {f.parent for f in features if f.parent} | {f.code for f in features}
    if not any(p.kind in {"invalid_geometry", "self_intersection"} for p in problems):
        problems += checks.check_topology(merged, affected)
    report.problems = sorted(
        problems, key=lambda p: (p.feature if p.feature is not None else -1, p.kind)
    )
    by_level = Counter(str(f.level) for f in features)
    report.counts = {"features": len(raw_features), **{k: by_level[k] for k in sorted(by_level)}}
    if report.problems:
        return
    plan = _plan_unified(features, stored)
    report.counts.update({k: len(v) for k, v in plan.items()})
    report.ok = True
    if report.dry_run:
        return
    _apply_unified(plan, actor, source, valid_from or timezone.now())


def _plan_unified(features: list[Feature], stored: dict[str, Feature]) -> dict[str, list[Feature]]:
    plan: dict[str, list[Feature]] = {"created": [], "updated": [], "unchanged": []}
    for f in sorted(features, key=lambda f: (len(f.code), f.code)):
        old = stored.get(f.code)
        if old is None:
            plan["created"].append(f)
        elif (
            old.name != f.name
            or old.kind != f.kind
            or old.parent != f.parent
            or old.geometry is None
            or f.geometry is None
            or not _same_geometry(old.geometry, f.geometry)
        ):
            plan["updated"].append(f)
        else:
            plan["unchanged"].append(f)
    return plan


@transaction.atomic
def _apply_unified(
    plan: dict[str, list[Feature]], actor: Any, source: str, valid_from: datetime
) -> None:
    regions = {r.code: r for r in Region.objects.dangerously_unscoped().filter(valid_to=None)}
    for f in plan["created"] + plan["updated"]:
        assert f.geometry is not None and f.level is not None
        region = regions.get(f.code)
        changes: dict[str, Any] = {}
        if region is None:
            region = Region.objects.create(
                code=f.code,
                name=f.name,
                level=f.level,
                parent=regions[f.parent] if f.parent else None,
                kind=f.kind,
                valid_from=valid_from,
            )
            regions[f.code] = region
            action = "region.create"
        else:
            action = "region.update"
            parent = regions[f.parent] if f.parent else None
            for attr, value in (("name", f.name), ("kind", f.kind), ("parent", parent)):
                if getattr(region, attr) != value:
                    changes[attr] = [str(getattr(region, attr)), str(value)]
                    setattr(region, attr, value)
            if changes:
                region.save(update_fields=list(changes))
        current = (
            Boundary.objects.dangerously_unscoped().filter(region=region, valid_to=None).first()
        )
        new_boundary = current is None or not _same_geometry(
            shapely.from_geojson(current.geojson), f.geometry
        )
        if new_boundary:
            if current is not None:
                current.valid_to = valid_from
                current.save(update_fields=["valid_to"])
                changes["boundary"] = {"closed_version": current.pk}
            _boundary_create(region, f.geometry, valid_from, source)
        audit_record(
            actor=actor,
            action=action,
            object_type="region",
            object_id=f.code,
            details={"changes": changes, "source": source} if changes else {"source": source},
        )
    audit_record(
        actor=actor,
        action="regions.import",
        object_type="layer",
        object_id=UNIFIED,
        details={k: len(v) for k, v in plan.items()} | {"source": source},
    )
    if plan["created"] or plan["updated"]:
        revision_bump()
        for layer in Layer.objects.all():
            crosswalk_rebuild(layer=layer)


def _boundary_create(
    region: Region, geom: BaseGeometry, valid_from: datetime, source: str
) -> Boundary:
    minx, miny, maxx, maxy = geom.bounds
    return Boundary.objects.create(
        region=region,
        geojson=_geojson(geom),
        area_m2=area_m2(geom),
        min_lon=minx,
        min_lat=miny,
        max_lon=maxx,
        max_lat=maxy,
        valid_from=valid_from,
        source=source[:200],
    )


def revision_bump() -> None:
    """Tell every process's locate index that grid boundaries changed (after this commits)."""
    BoundaryRevision.objects.get_or_create(key="grids")
    BoundaryRevision.objects.filter(key="grids").update(revision=F("revision") + 1)


def _import_department(
    report: ImportReport,
    raw_features: list[Any],
    actor: Any,
    layer_slug: str,
    repair: bool,
    valid_from: datetime | None,
) -> None:
    layer = Layer.objects.filter(slug=layer_slug).first()
    if layer is None:
        known = ", ".join(Layer.objects.values_list("slug", flat=True)) or "-"
        report.problems = [
            Problem(
                "unknown_layer",
                _(
                    "Layer %(layer)s does not exist (known: %(known)s); create it first with "
                    "`wangge grids layers --add`."
                )
                % {"layer": layer_slug, "known": known},
            )
        ]
        return
    features, problems, repairs = checks.parse_department(raw_features, repair=repair)
    report.repairs = repairs
    report.problems = problems
    report.counts = {"features": len(raw_features)}
    if problems:
        return
    current = {
        g.code: g
        for g in DepartmentGrid.objects.dangerously_unscoped().filter(layer=layer, valid_to=None)
    }
    created = [f for f in features if f.code not in current]
    updated = [
        f
        for f in features
        if f.code in current
        and f.geometry is not None
        and (
            current[f.code].name != f.name
            or not _same_geometry(shapely.from_geojson(current[f.code].geojson), f.geometry)
        )
    ]
    retired = [code for code in current if code not in {f.code for f in features}]
    report.counts.update(
        created=len(created),
        updated=len(updated),
        unchanged=len(features) - len(created) - len(updated),
        retired=len(retired),
    )
    report.ok = True
    if report.dry_run:
        return
    when = valid_from or timezone.now()
    with transaction.atomic():
        for code in retired + [f.code for f in updated]:
            DepartmentGrid.objects.dangerously_unscoped().filter(pk=current[code].pk).update(
                valid_to=when
            )
        for f in created + updated:
            assert f.geometry is not None
            minx, miny, maxx, maxy = f.geometry.bounds
            DepartmentGrid.objects.create(
                layer=layer,
                code=f.code,
                name=f.name,
                geojson=_geojson(f.geometry),
                area_m2=area_m2(f.geometry),
                min_lon=minx,
                min_lat=miny,
                max_lon=maxx,
                max_lat=maxy,
                valid_from=when,
            )
        crosswalk_rebuild(layer=layer)
        audit_record(
            actor=actor,
            action="regions.import",
            object_type="layer",
            object_id=layer.slug,
            details=report.counts,
        )


def crosswalk_rebuild(*, layer: Layer) -> int:
    """Recompute area shares of the layer's current grids over the current unified grids."""
    from wangge.regions.selectors import boundaries_unscoped

    # The current grids' codes and shapes (by code, as the locate index holds them) and a tree
    # over them; not a locate index, whose raster took most of the time and is not used here.
    boundaries = boundaries_unscoped(level=Level.GRID)
    codes = [code for code, _geojson in boundaries]
    dept_grids = list(
        DepartmentGrid.objects.dangerously_unscoped().filter(layer=layer, valid_to=None)
    )
    Crosswalk.objects.dangerously_unscoped().filter(department_grid__layer=layer).delete()
    if not dept_grids or len(codes) == 0:
        return 0
    grid_ids = dict(
        Region.objects.dangerously_unscoped()
        .filter(level=Level.GRID, valid_to=None)
        .values_list("code", "id")
    )
    geoms = shapely.from_geojson([geojson for _code, geojson in boundaries])
    tree = shapely.STRtree(geoms)
    rows = []
    moved = []
    for dept_grid in dept_grids:
        shape = shapely.from_geojson(dept_grid.geojson)
        total = area_m2(shape) or 1.0
        best_code, best_area = "", 0.0
        for j in tree.query(shape, predicate="intersects").tolist():
            part = checks.to_multipolygon(shapely.intersection(shape, geoms[j]))
            part_area = area_m2(part)
            if part_area <= 0.01:
                continue
            code = codes[j]
            rows.append(
                Crosswalk(
                    department_grid=dept_grid,
                    grid_id=grid_ids[code],
                    area_m2=part_area,
                    share=min(part_area / total, 1.0),
                )
            )
            if part_area > best_area:
                best_code, best_area = code, part_area
        if dept_grid.region_code != best_code:
            dept_grid.region_code = best_code
            moved.append(dept_grid)
    DepartmentGrid.objects.dangerously_unscoped().bulk_update(
        moved, ["region_code"], batch_size=500
    )
    Crosswalk.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


@transaction.atomic
def layer_create(*, actor: Any, slug: str, name: str, department: Department | None) -> Layer:
    require_any(actor, Perm.REGIONS_MANAGE)
    if Layer.objects.filter(slug=slug).exists():
        raise ValidationFailed(
            code="duplicate_layer", message=_("Layer %(layer)s exists already.") % {"layer": slug}
        )
    layer = Layer.objects.create(slug=slug, name=name, department=department)
    audit_record(actor=actor, action="layer.create", object_type="layer", object_id=slug)
    return layer


def grids_check() -> ImportReport:
    """Run the import checks on what is stored (unified layer)."""
    stored = stored_features()
    features = list(stored.values())
    problems = checks.check_codes(features, set(stored))
    for f in features:
        if f.geometry is None:
            problems.append(
                Problem(
                    "missing_boundary",
                    _("%(code)s has no boundary.") % {"code": f.code},
                    None,
                    f.code,
                )
            )
        elif not f.geometry.is_valid:
            problems.append(
                Problem(
                    "invalid_geometry",
                    _("Invalid geometry: %(reason)s")
                    % {"reason": checks.translate_reason(shapely.is_valid_reason(f.geometry))},
                    None,
                    f.code,
                )
            )
    problems += checks.check_topology(stored)
    by_level = Counter(str(f.level) for f in features)
    return ImportReport(
        ok=not problems,
        layer=UNIFIED,
        dry_run=True,
        counts={k: by_level[k] for k in sorted(by_level)},
        problems=problems,
    )


def grids_export(*, layer: str = UNIFIED) -> dict[str, Any]:
    """A FeatureCollection of the current layer that `grids_import` takes back unchanged."""
    features = []
    if layer == UNIFIED:
        boundaries = dict(
            Boundary.objects.dangerously_unscoped()
            .filter(valid_to=None)
            .values_list("region__code", "geojson")
        )
        for region in (
            Region.objects.dangerously_unscoped()
            .filter(valid_to=None)
            .select_related("parent")
            .order_by("code")
        ):
            props: dict[str, Any] = {
                "code": region.code,
                "name": region.name,
                "level": region.level,
                "parent": region.parent.code if region.parent else None,
            }
            if region.kind:
                props["kind"] = region.kind
            geometry = boundaries.get(region.code)
            features.append(
                {
                    "type": "Feature",
                    "properties": props,
                    "geometry": json.loads(geometry) if geometry else None,
                }
            )
    else:
        found = Layer.objects.filter(slug=layer).first()
        if found is None:
            raise NotFound()
        for g in (
            DepartmentGrid.objects.dangerously_unscoped()
            .filter(layer=found, valid_to=None)
            .order_by("code")
        ):
            features.append(
                {
                    "type": "Feature",
                    "properties": {"code": g.code, "name": g.name},
                    "geometry": json.loads(g.geojson),
                }
            )
    return {"type": "FeatureCollection", "features": features}


def grant_region(
    *,
    actor: Any,
    user: User,
    role: Role,
    region_code: str,
    department: Department | None = None,
) -> Grant:
    """Give a role over an existing region (checks the region, then core's grant_create)."""
    if not Region.objects.dangerously_unscoped().filter(code=region_code, valid_to=None).exists():
        raise ValidationFailed(
            code="unknown_region",
            message=_("Region %(code)s does not exist.") % {"code": region_code},
        )
    return grant_create(
        actor=actor, user=user, role=role, region_code=region_code, department=department
    )


def locate_points(
    lon: Any, lat: Any, crs: str = "wgs84"
) -> tuple[np.ndarray[Any, Any], list[str | None]]:
    """Locate arrays of points (system use: importers, intake). Returns indices and grid codes."""
    from wangge.regions.locate import grid_index

    index = grid_index()
    idx = index.locate(lon, lat, crs)
    return idx, index.codes_for(idx)


def straddle_threshold() -> float:
    return float(settings.STRADDLE_THRESHOLD)


# The restructuring operations (move, split, merge, recode) and their writer.
from wangge.regions.services.restructure import (  # noqa: E402
    next_grid_code,
    restructure_apply,
    restructure_plan,
    restructure_scope,
)

__all__ = [
    "ImportReport",
    "crosswalk_rebuild",
    "grant_region",
    "grids_check",
    "grids_export",
    "grids_import",
    "layer_create",
    "locate_points",
    "next_grid_code",
    "restructure_apply",
    "restructure_plan",
    "restructure_scope",
    "revision_bump",
    "stored_features",
    "straddle_threshold",
]
