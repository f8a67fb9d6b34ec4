"""Restructuring the grids themselves: plan an operation (move, split, merge, recode) into a
`GridPlan`, and write it — closed codes, new regions, new boundary versions, successions.

The records of the modules above (ledger, teams, events, campaigns) are re-homed by those
modules with the same plan (`<module>.services.regrid`); `wangge.restructure` runs them all in
one transaction. Everything here needs `regions.restructure` over every grid involved.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace
from typing import Any

import shapely
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core.audit import audit_record
from wangge.core.errors import NotFound, ValidationFailed
from wangge.core.geo import area_m2
from wangge.core.roles import Perm
from wangge.core.scope import Scope, require_any
from wangge.regions import checks
from wangge.regions.checks import Feature, Problem
from wangge.regions.models import Boundary, Layer, Level, Operation, Region, Succession
from wangge.regions.restructure import MAPPABLE_KINDS, GridPlan, Target


def restructure_scope(*, actor: Any, codes: set[str] | list[str]) -> Scope:
    """The actor's scope if it may restructure every one of `codes`; NotFound otherwise (the
    same answer for a role without the permission and for a grid outside the grant)."""
    scope = require_any(actor, Perm.REGIONS_RESTRUCTURE)
    for code in codes:
        if not scope.holds(Perm.REGIONS_RESTRUCTURE, code):
            raise NotFound()
    return scope


def next_grid_code(community: str) -> str:
    """The next grid code under a community that no region has ever had (codes are never
    reused, so closed ones count)."""
    used = set(
        Region.objects.dangerously_unscoped()
        .filter(code__startswith=community, level=Level.GRID)
        .values_list("code", flat=True)
    )
    for seq in range(1, 1000):
        code = f"{community}{seq:03d}"
        if code not in used:
            return code
    raise ValidationFailed(
        _("Community %(code)s has no free grid code left.") % {"code": community},
        code="no_free_code",
    )


def restructure_plan(
    *,
    actor: Any,
    operation: str,
    grids: list[str],
    code: str = "",
    name: str = "",
    community: str = "",
    pieces: bytes | None = None,
    effective: dt.datetime | None = None,
    mapping: dict[tuple[str, str], str] | None = None,
    default: str = "",
    lock: bool = False,
) -> GridPlan:
    """Plan one operation. Input that cannot name an operation at all (an unknown grid, the
    wrong number of grids) raises ValidationFailed; what an import would refuse (overlaps,
    gaps, used codes …) is listed in `plan.problems`, and a plan with problems is not applied.

    - move: `grids=[grid]`, `community` (12 digits), optional new `code` and `name`;
    - recode: `grids=[grid]`, a new `code` in the same community and/or a new `name`;
    - merge: two or more `grids` of one community; `code` (default: the first grid's, which
      then keeps it), optional `name`;
    - split: `grids=[grid]`, `pieces` a GeoJSON FeatureCollection of grids (code, name,
      geometry) covering it exactly; one piece may keep the grid's code.

    `lock` (inside the applying transaction): the old grids' rows are locked first, so two
    restructures of one grid run one after the other and the second finds it closed.
    """
    scope = require_any(actor, Perm.REGIONS_RESTRUCTURE)
    if operation not in Operation.values:
        raise ValidationFailed(
            _("Unknown operation %(op)s; use move, split, merge or recode.") % {"op": operation},
            code="unknown_operation",
        )
    grids = [g.strip() for g in grids if g.strip()]
    if not grids:
        raise ValidationFailed(_("Name the grid to restructure."), code="grid_required")
    if len(set(grids)) != len(grids):
        raise ValidationFailed(_("A grid is named twice."), code="duplicate_grid")
    if operation == Operation.MERGE and len(grids) < 2:
        raise ValidationFailed(_("A merge needs at least two grids."), code="too_few_grids")
    if operation != Operation.MERGE and len(grids) != 1:
        raise ValidationFailed(_("Name exactly one grid."), code="one_grid")
    if lock:
        list(
            Region.objects.dangerously_unscoped()
            .select_for_update()
            .filter(code__in=grids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    regions = [_current(scope, g, Level.GRID) for g in grids]
    plan = GridPlan(
        operation=operation,
        batch=uuid.uuid4().hex,
        effective=_effective(effective),
        mapping=dict(mapping or {}),
        default=default.strip(),
    )
    stored = _stored()
    code, name = code.strip(), name.strip()[:100]
    if operation == Operation.MOVE:
        target_parent = _current(scope, community.strip(), Level.COMMUNITY)
        _plan_move(plan, stored, regions[0], target_parent, code, name)
    elif operation == Operation.RECODE:
        _plan_recode(plan, stored, regions[0], code, name)
    elif operation == Operation.MERGE:
        _plan_merge(plan, stored, regions, code, name)
    else:
        if not pieces:
            raise ValidationFailed(
                _("A split needs the new grids as a GeoJSON file."), code="pieces_required"
            )
        _plan_split(plan, stored, regions[0], pieces)
    _check_effective(plan, stored)
    _check_mapping(plan)
    return plan


# -- the operations ----------------------------------------------------------------------------


def _plan_move(
    plan: GridPlan,
    stored: dict[str, Feature],
    grid: Region,
    community: Region,
    code: str,
    name: str,
) -> None:
    old = stored[grid.code]
    assert old.geometry is not None and old.parent is not None
    if community.code == old.parent:
        plan.problems.append(
            Problem(
                "same_community",
                _("%(grid)s is already in %(community)s; to change its code use recode.")
                % {"grid": grid.code, "community": community.code},
                code=grid.code,
            )
        )
        return
    code = code or next_grid_code(community.code)
    _check_new_code(plan, code, community.code)
    new = Feature(None, code, name or old.name, Level.GRID, community.code, old.kind, old.geometry)
    merged = {k: v for k, v in stored.items() if k != grid.code}
    merged[code] = new
    old_chain, new_chain = _ancestors(old.parent), _ancestors(community.code)
    for parent in old_chain:
        if parent not in new_chain:
            merged[parent] = _reshaped(
                stored[parent], lambda g: shapely.difference(g, old.geometry)
            )
            plan.changed.append(merged[parent])
    for parent in new_chain:
        if parent not in old_chain:
            merged[parent] = _reshaped(stored[parent], lambda g: shapely.union(g, old.geometry))
            plan.changed.append(merged[parent])
    target_geom = stored[community.code].geometry
    assert target_geom is not None
    if shapely.intersection(target_geom.boundary, old.geometry.boundary).length <= 0:
        plan.problems.append(
            Problem(
                "not_adjacent",
                _("%(grid)s does not border %(community)s.")
                % {"grid": grid.code, "community": community.code},
                code=grid.code,
            )
        )
    if not any(f.parent == old.parent for f in merged.values()):
        plan.problems.append(
            Problem(
                "last_grid",
                _("%(grid)s is the last grid of %(community)s; a community keeps at least one.")
                % {"grid": grid.code, "community": old.parent},
                code=grid.code,
            )
        )
    plan.created.append(new)
    plan.closed.append(grid.code)
    plan.sources[grid.code] = [Target(code, new.name, old.geometry)]
    plan.successions.append(_succession(plan, old, new, 1.0))
    _check_topology(plan, merged, set(old_chain) | set(new_chain))


def _plan_recode(
    plan: GridPlan, stored: dict[str, Feature], grid: Region, code: str, name: str
) -> None:
    old = stored[grid.code]
    assert old.geometry is not None and old.parent is not None
    if code and code != grid.code:
        if code[:-3] != old.parent:
            plan.problems.append(
                Problem(
                    "other_community",
                    _("%(code)s is not in %(grid)s's community; to change community use move.")
                    % {"code": code, "grid": grid.code},
                    code=code,
                )
            )
            return
        _check_new_code(plan, code, old.parent)
        new = replace(old, code=code, name=name or old.name)
        plan.created.append(new)
        plan.closed.append(grid.code)
        plan.sources[grid.code] = [Target(code, new.name, old.geometry)]
        plan.successions.append(_succession(plan, old, new, 1.0))
    elif name and name != old.name:
        new = replace(old, name=name)
        plan.changed.append(new)
        plan.successions.append(_succession(plan, old, new, 1.0))
    else:
        plan.problems.append(
            Problem(
                "nothing_to_change",
                _("Give a new code or a new name."),
                code=grid.code,
            )
        )


def _plan_merge(
    plan: GridPlan, stored: dict[str, Feature], grids: list[Region], code: str, name: str
) -> None:
    olds = [stored[g.code] for g in grids]
    parents = {f.parent for f in olds}
    if len(parents) != 1:
        plan.problems.append(
            Problem(
                "different_communities",
                _("Only grids of one community can be merged; move one first."),
                code=grids[0].code,
            )
        )
        return
    parent = olds[0].parent
    assert parent is not None
    union = checks.to_multipolygon(shapely.union_all([f.geometry for f in olds]))
    if len(union.geoms) != 1:
        plan.problems.append(
            Problem(
                "not_adjacent",
                _("These grids do not form one connected area."),
                code=grids[0].code,
            )
        )
    codes = [g.code for g in grids]
    code = code or codes[0]
    merged = {k: v for k, v in stored.items() if k not in codes}
    if code in codes:
        survivor = stored[code]
        target = replace(survivor, name=name or survivor.name, geometry=union)
        plan.changed.append(target)
    else:
        _check_new_code(plan, code, parent)
        target = replace(olds[0], index=None, code=code, name=name or olds[0].name, geometry=union)
        plan.created.append(target)
    merged[code] = target
    total = area_m2(union) or 1.0
    for old in olds:
        plan.sources[old.code] = [Target(code, target.name, union)]
        if old.code != code:
            plan.closed.append(old.code)
            plan.successions.append(_succession(plan, old, target, 1.0))
        elif target.name != old.name:
            plan.successions.append(_succession(plan, old, target, area_m2(old.geometry) / total))
    _check_topology(plan, merged, {parent})


def _plan_split(plan: GridPlan, stored: dict[str, Feature], grid: Region, data: bytes) -> None:
    old = stored[grid.code]
    assert old.geometry is not None and old.parent is not None
    raw, problems = checks.read_feature_collection(data)
    if problems:
        plan.problems.extend(problems)
        return
    pieces, problems, _repairs = checks.parse_unified(raw, repair=False)
    plan.problems.extend(problems)
    if plan.problems:
        return
    if len(pieces) < 2:
        plan.problems.append(
            Problem("too_few_pieces", _("A split needs at least two new grids."), code=grid.code)
        )
        return
    seen: set[str] = set()
    for piece in pieces:
        if piece.level != Level.GRID or piece.parent != old.parent:
            plan.problems.append(
                Problem(
                    "other_community",
                    _("%(code)s is not a grid code of %(community)s.")
                    % {"code": piece.code, "community": old.parent},
                    piece.index,
                    piece.code,
                )
            )
        elif piece.code in seen:
            plan.problems.append(
                Problem(
                    "duplicate_code",
                    _("Code %(code)s is used twice.") % {"code": piece.code},
                    piece.index,
                    piece.code,
                )
            )
        elif piece.code != grid.code:
            _check_new_code(plan, piece.code, old.parent, piece.index)
        seen.add(piece.code)
    if plan.problems:
        return
    union = shapely.union_all([p.geometry for p in pieces])
    missing = area_m2(checks.to_multipolygon(shapely.difference(old.geometry, union)))
    extra = area_m2(checks.to_multipolygon(shapely.difference(union, old.geometry)))
    if missing > settings.GAP_TOLERANCE_M2 or extra > settings.OUTSIDE_TOLERANCE_M2:
        plan.problems.append(
            Problem(
                "pieces_do_not_cover",
                _(
                    "The new grids must cover %(grid)s exactly: %(missing).1f m² of it is "
                    "left out and %(extra).1f m² lies outside it."
                )
                % {"grid": grid.code, "missing": missing, "extra": extra},
                code=grid.code,
            )
        )
    merged = {k: v for k, v in stored.items() if k != grid.code}
    total = area_m2(old.geometry) or 1.0
    targets = []
    for piece in sorted(pieces, key=lambda p: p.code):
        assert piece.geometry is not None
        piece = replace(piece, kind=piece.kind or old.kind)
        merged[piece.code] = piece
        (plan.changed if piece.code == grid.code else plan.created).append(piece)
        targets.append(Target(piece.code, piece.name, piece.geometry))
        share = area_m2(shapely.intersection(old.geometry, piece.geometry)) / total
        if piece.code != grid.code or piece.name != old.name:
            plan.successions.append(_succession(plan, old, piece, min(share, 1.0)))
    if grid.code not in seen:
        plan.closed.append(grid.code)
    plan.sources[grid.code] = targets
    _check_topology(plan, merged, {old.parent})


# -- shared checks -----------------------------------------------------------------------------


def _current(scope: Scope, code: str, level: Level) -> Region:
    """The current region `code` of `level` the actor may restructure; a missing, closed,
    out-of-scope or wrong-level code gets the same message."""
    region = (
        Region.objects.dangerously_unscoped()
        .filter(code=code, valid_to=None, level=level)
        .select_related("parent")
        .first()
    )
    if region is None or not scope.holds(Perm.REGIONS_RESTRUCTURE, code):
        message = (
            _("There is no current grid %(code)s you may restructure.")
            if level == Level.GRID
            else _("There is no current community %(code)s you may restructure.")
        )
        raise ValidationFailed(message % {"code": code}, code="unknown_region")
    return region


def _effective(when: dt.datetime | None) -> dt.datetime:
    now = timezone.now()
    if when is None:
        return now
    if when > now:
        raise ValidationFailed(
            _("The restructure cannot take effect in the future: records move when it is done."),
            code="future_date",
        )
    return when


def _check_effective(plan: GridPlan, stored: dict[str, Feature]) -> None:
    """New versions start after the ones they close."""
    touched = set(plan.closed) | {f.code for f in plan.changed}
    latest = (
        Boundary.objects.dangerously_unscoped()
        .filter(region__code__in=touched, valid_to=None)
        .order_by("-valid_from")
        .values_list("valid_from", flat=True)
        .first()
    )
    if latest is not None and plan.effective <= latest:
        plan.problems.append(
            Problem(
                "effective_too_early",
                _(
                    "The restructure must take effect after %(when)s, when the current "
                    "boundaries began."
                )
                % {"when": timezone.localtime(latest).strftime("%Y-%m-%d %H:%M")},
            )
        )


def _check_mapping(plan: GridPlan) -> None:
    targets = {t.code for ts in plan.sources.values() for t in ts}
    for (kind, pk), code in sorted(plan.mapping.items()):
        if kind not in MAPPABLE_KINDS or code not in targets:
            plan.problems.append(
                Problem(
                    "bad_mapping",
                    _("Mapping %(kind)s %(id)s → %(code)s: %(code)s is not one of the new grids.")
                    % {"kind": kind, "id": pk, "code": code},
                    code=code,
                )
            )
    if plan.default and plan.default not in targets:
        plan.problems.append(
            Problem(
                "bad_default",
                _("The default grid %(code)s is not one of the new grids.")
                % {"code": plan.default},
                code=plan.default,
            )
        )


def _check_new_code(plan: GridPlan, code: str, parent: str, index: int | None = None) -> None:
    if not (len(code) == 15 and code.isascii() and code.isdigit() and code.startswith(parent)):
        plan.problems.append(
            Problem(
                "malformed_code",
                _("A grid code of %(parent)s has 15 digits and begins with %(parent)s: %(code)s.")
                % {"parent": parent, "code": code},
                index,
                code,
            )
        )
    elif Region.objects.dangerously_unscoped().filter(code=code).exists():
        plan.problems.append(
            Problem(
                "code_used",
                _("Code %(code)s is or was in use; codes are never reused.") % {"code": code},
                index,
                code,
            )
        )


def _check_topology(plan: GridPlan, merged: dict[str, Feature], affected: set[str]) -> None:
    if not plan.problems:
        plan.problems.extend(checks.check_topology(merged, affected))


def _stored() -> dict[str, Feature]:
    from wangge.regions.services import stored_features

    return stored_features()


def _ancestors(code: str) -> list[str]:
    """`code` and the codes above it (a community's street and district)."""
    return [code[:n] for n in (12, 9, 6) if n <= len(code)]


def _reshaped(feature: Feature, change: Any) -> Feature:
    assert feature.geometry is not None
    return replace(feature, geometry=checks.to_multipolygon(change(feature.geometry)))


def _succession(plan: GridPlan, old: Feature, new: Feature, share: float) -> dict[str, Any]:
    return {
        "old_code": old.code,
        "old_name": old.name,
        "new_code": new.code,
        "new_name": new.name,
        "share": round(share, 6),
    }


# -- writing -----------------------------------------------------------------------------------


@transaction.atomic
def restructure_apply(*, actor: Any, plan: GridPlan) -> dict[str, int]:
    """Write the regions of a plan without problems: close the old codes (region and boundary
    at `plan.effective`), create the new grids, give changed regions a new boundary version
    and/or name, store the successions; then the locate index and crosswalks follow."""
    from wangge.regions.services import (
        _boundary_create,
        _same_geometry,
        crosswalk_rebuild,
        revision_bump,
    )

    restructure_scope(actor=actor, codes=plan.codes())
    if not plan.ok:
        raise ValidationFailed(
            _("The restructure has problems; nothing was changed."), code="plan_has_problems"
        )
    when = plan.effective
    source = f"restructure:{plan.operation}:{plan.batch}"
    touched = set(plan.closed) | {f.code for f in plan.changed} | {f.parent for f in plan.created}
    regions = {
        r.code: r
        for r in Region.objects.dangerously_unscoped()
        .select_for_update()
        .filter(code__in=touched, valid_to=None)
        .order_by("pk")
    }
    for code in plan.closed:
        region = regions[code]
        region.valid_to = when
        region.save(update_fields=["valid_to"])
        _close_boundary(region, when)
        audit_record(
            actor=actor,
            action="region.close",
            object_type="region",
            object_id=code,
            details={"batch": plan.batch, "operation": plan.operation},
        )
    for f in plan.created:
        assert f.geometry is not None and f.parent is not None
        region = Region.objects.create(
            code=f.code,
            name=f.name,
            level=Level.GRID,
            parent=regions[f.parent],
            kind=f.kind,
            valid_from=when,
        )
        _boundary_create(region, f.geometry, when, source)
        audit_record(
            actor=actor,
            action="region.create",
            object_type="region",
            object_id=f.code,
            details={"batch": plan.batch, "operation": plan.operation},
        )
    for f in plan.changed:
        assert f.geometry is not None
        region = regions[f.code]
        changes: dict[str, Any] = {}
        if region.name != f.name:
            changes["name"] = [region.name, f.name]
            region.name = f.name
            region.save(update_fields=["name"])
        current = (
            Boundary.objects.dangerously_unscoped().filter(region=region, valid_to=None).first()
        )
        if current is None or not _same_geometry(shapely.from_geojson(current.geojson), f.geometry):
            if current is not None:
                _close_boundary(region, when)
                changes["boundary"] = {"closed_version": current.pk}
            _boundary_create(region, f.geometry, when, source)
        audit_record(
            actor=actor,
            action="region.update",
            object_type="region",
            object_id=f.code,
            details={"batch": plan.batch, "operation": plan.operation, "changes": changes},
        )
    Succession.objects.bulk_create(
        [
            Succession(batch=plan.batch, operation=plan.operation, at=when, **s)
            for s in plan.successions
        ]
    )
    if plan.created or plan.changed or plan.closed:
        revision_bump()
        for layer in Layer.objects.all():
            crosswalk_rebuild(layer=layer)
    return {
        "closed": len(plan.closed),
        "created": len(plan.created),
        "changed": len(plan.changed),
    }


def _close_boundary(region: Region, when: dt.datetime) -> None:
    Boundary.objects.dangerously_unscoped().filter(Q(region=region) & Q(valid_to=None)).update(
        valid_to=when
    )
