"""What a restructure of grids is, as data every module reads: the plan and its placement rule.

`GridPlan` says, for each old grid, which grids its records may go to (its *targets*, with
their new boundaries), and `place` decides one record: an explicit mapping, the only target,
the record's location inside a target, the operation's default grid, or nothing (the record
cannot be placed and is listed). The modules above regions (ledger, teams, events, campaigns)
take a plan and re-home their own records with it (`<module>.services.regrid`); the planner and
the writer of the regions themselves are in `regions.services`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import shapely
from django.utils.translation import gettext as _
from shapely.geometry.base import BaseGeometry

from wangge.regions.checks import Feature, Problem

# The kinds a mapping may name (`kind,id,grid` lines): what each module re-homes.
MAPPABLE_KINDS = (
    "estate",
    "building",
    "room",
    "household",
    "person",
    "organisation",
    "thing",
    "staff",
    "party_org",
    "party_member",
    "event",
    "task",
)


def id_batches(ids: list[int], size: int = 900) -> list[list[int]]:
    """`ids` cut to what one `pk__in` may bind (SQLite's variable limit), in order."""
    return [ids[i : i + size] for i in range(0, len(ids), size)]


@dataclass(frozen=True)
class Target:
    code: str
    name: str
    geometry: BaseGeometry


@dataclass
class GridPlan:
    """One restructure, planned. `sources` maps every old grid code whose records may move to
    its targets (a surviving grid is its own target); `closed` are the codes that end."""

    operation: str
    batch: str
    effective: datetime
    sources: dict[str, list[Target]] = field(default_factory=dict)
    closed: list[str] = field(default_factory=list)
    created: list[Feature] = field(default_factory=list)
    changed: list[Feature] = field(default_factory=list)  # new boundary and/or name
    successions: list[dict[str, Any]] = field(default_factory=list)
    mapping: dict[tuple[str, str], str] = field(default_factory=dict)
    default: str = ""
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def codes(self) -> set[str]:
        """Every region the plan touches (old and new grids, reshaped or renamed regions):
        what the permission check covers."""
        return (
            set(self.sources)
            | {t.code for ts in self.sources.values() for t in ts}
            | set(self.closed)
            | {f.code for f in self.created + self.changed}
        )

    def targets_of(self, source: str) -> list[Target]:
        return self.sources.get(source, [])

    def place(
        self, source: str, kind: str, pk: Any, point: tuple[float, float] | None = None
    ) -> str | None:
        """The grid a record of `source` goes to (may be `source` itself), or None."""
        return self.place_many(source, kind, [(pk, point)])[0]

    def place_many(
        self, source: str, kind: str, rows: list[tuple[Any, tuple[float, float] | None]]
    ) -> list[str | None]:
        """`place` for many records of one source grid: (pk, (lon, lat) or None) each; the
        points are tested against the targets' boundaries vectorised."""
        targets = self.targets_of(source)
        codes = {t.code for t in targets}
        result: list[str | None] = [None] * len(rows)
        located: list[int] = []
        points: list[tuple[float, float]] = []
        for i, (pk, point) in enumerate(rows):
            mapped = self.mapping.get((kind, str(pk)))
            if mapped in codes:
                result[i] = mapped
            elif len(targets) == 1:
                result[i] = targets[0].code
            elif point is not None and point[0] is not None and point[1] is not None:
                located.append(i)
                points.append((float(point[0]), float(point[1])))
            elif self.default in codes:
                result[i] = self.default
        if located:
            xs = np.array([x for x, _y in points])
            ys = np.array([y for _x, y in points])
            found = np.full(len(located), -1)
            # Targets in code order: a point on a shared edge goes to the first (as locate does).
            for j, target in sorted(enumerate(targets), key=lambda t: t[1].code):
                inside = shapely.intersects_xy(target.geometry, xs, ys) & (found < 0)
                found[inside] = j
            for n, i in enumerate(located):
                if found[n] >= 0:
                    result[i] = targets[int(found[n])].code
                elif self.default in codes:
                    result[i] = self.default
        return result


@dataclass(frozen=True)
class Unplaced:
    """A record that none of the rules placed: listed, never dropped."""

    kind: str
    pk: Any
    label: str
    grid_code: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.pk,
            "label": self.label,
            "grid_code": self.grid_code,
            "reason": _("No location inside a new grid, no mapping and no default grid."),
        }


@dataclass
class RegridResult:
    """What one module moves (or would move): counts per kind and target grid."""

    module: str
    moved: Counter[tuple[str, str]] = field(default_factory=Counter)
    unplaced: list[Unplaced] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # (kind, record id) → the grid it goes to, for the modules after this one (campaigns).
    placements: dict[tuple[str, int], str] = field(default_factory=dict)

    def count(self, kind: str, target: str, n: int = 1) -> None:
        if n:
            self.moved[(kind, target)] += n

    def as_dict(self) -> dict[str, Any]:
        per_kind: dict[str, dict[str, int]] = {}
        for (kind, target), n in sorted(self.moved.items()):
            per_kind.setdefault(kind, {})[target] = n
        return {
            "module": self.module,
            "moved": per_kind,
            "total": sum(self.moved.values()),
            "unplaced": [u.as_dict() for u in self.unplaced],
            "notes": self.notes,
        }


def parse_mapping(text: str) -> dict[tuple[str, str], str]:
    """`kind,id,grid` lines (a header line and blank lines are skipped) → the plan's mapping.
    Raises ValidationFailed naming the first bad line."""
    import csv
    import io

    from wangge.core.errors import ValidationFailed

    mapping: dict[tuple[str, str], str] = {}
    for number, row in enumerate(csv.reader(io.StringIO(text or "")), start=1):
        cells = [c.strip() for c in row]
        if not any(cells) or (number == 1 and cells and cells[0].lower() == "kind"):
            continue
        if (
            len(cells) != 3
            or cells[0] not in MAPPABLE_KINDS
            or not (cells[1].isascii() and cells[1].isdigit())
            or not (len(cells[2]) == 15 and cells[2].isascii() and cells[2].isdigit())
        ):
            raise ValidationFailed(
                _(
                    "Mapping line %(n)d is not “kind,id,grid code” (kinds: %(kinds)s; "
                    "the grid code has 15 digits)."
                )
                % {"n": number, "kinds": ", ".join(MAPPABLE_KINDS)},
                code="bad_mapping",
                details={"line": number},
            )
        mapping[(cells[0], str(int(cells[1])))] = cells[2]
    return mapping
