"""Restructuring grids across every module: plan, dry run, apply in one transaction.

`restructure(...)` plans the regions (`regions.services.restructure_plan`), asks each module
what it would move with that plan (`ledger`, `teams`, `events`, `campaigns` — each module's
own `regrid`), and with `apply=True` writes all of it in one transaction: the regions first,
then each module. Nothing is written when the plan has problems or a record cannot be placed.
The permission (`regions.restructure` over every grid involved) is checked by the regions
planner and again by every module.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from wangge.campaigns import services as campaigns
from wangge.core.audit import audit_record
from wangge.events import services as events
from wangge.ledger import services as ledger
from wangge.linkage.regrid import regrid as linkage_regrid
from wangge.regions import services as regions
from wangge.regions.checks import Problem
from wangge.regions.restructure import GridPlan, RegridResult, parse_mapping
from wangge.teams import services as teams


@dataclass
class Report:
    """A dry run's or an apply's answer: the regions' changes, each module's counts per kind
    and target grid, what cannot be placed, and the problems that stop it."""

    operation: str
    dry_run: bool
    applied: bool = False
    plan: GridPlan | None = None
    problems: list[Problem] = field(default_factory=list)
    modules: list[RegridResult] = field(default_factory=list)

    @property
    def unplaced(self) -> list[dict[str, Any]]:
        return [{"module": m.module, **u.as_dict()} for m in self.modules for u in m.unplaced]

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unplaced

    def totals(self) -> dict[str, int]:
        """What moves, per target grid, over all modules (the page's summary line)."""
        out: dict[str, int] = {}
        for module in self.modules:
            for (_kind, target), n in module.moved.items():
                out[target] = out.get(target, 0) + n
        return dict(sorted(out.items()))

    def as_dict(self) -> dict[str, Any]:
        plan = self.plan
        return {
            "ok": self.ok,
            "operation": self.operation,
            "dry_run": self.dry_run,
            "applied": self.applied,
            "batch": plan.batch if plan else None,
            "effective": plan.effective.isoformat() if plan else None,
            "regions": {
                "closed": list(plan.closed) if plan else [],
                "created": [{"code": f.code, "name": f.name} for f in plan.created] if plan else [],
                "changed": [{"code": f.code, "name": f.name} for f in plan.changed] if plan else [],
                "successions": list(plan.successions) if plan else [],
            },
            "modules": {m.module: m.as_dict() for m in self.modules},
            "per_grid": self.totals(),
            "unplaced": self.unplaced,
            "problems": [p.as_dict() for p in self.problems],
        }


def restructure(
    *,
    actor: Any,
    operation: str,
    grids: list[str],
    code: str = "",
    name: str = "",
    community: str = "",
    pieces: bytes | None = None,
    effective: dt.datetime | None = None,
    mapping: str = "",
    default: str = "",
    apply: bool = False,
) -> Report:
    """Dry run (the default) or apply one operation (see `regions.services.restructure_plan`
    for the arguments; `mapping` is `kind,id,grid` lines). With `apply`, everything is written
    in one transaction, or nothing when there are problems or unplaced records."""
    arguments = {
        "operation": operation,
        "grids": grids,
        "code": code,
        "name": name,
        "community": community,
        "pieces": pieces,
        "effective": effective,
        "mapping": parse_mapping(mapping),
        "default": default,
    }
    if not apply:
        return _run(actor, arguments, apply=False)
    with transaction.atomic():
        return _run(actor, arguments, apply=True)


def _run(actor: Any, arguments: dict[str, Any], *, apply: bool) -> Report:
    plan = regions.restructure_plan(actor=actor, lock=apply, **arguments)
    report = Report(operation=plan.operation, dry_run=not apply, plan=plan, problems=plan.problems)
    if plan.problems:
        return report
    report.modules = _modules(actor, plan, apply=False)
    if not apply or not report.ok:
        return report
    regions.restructure_apply(actor=actor, plan=plan)
    report.modules = _modules(actor, plan, apply=True)
    report.applied = True
    summary = report.as_dict()
    audit_record(
        actor=actor,
        action="regions.restructure",
        object_type="restructure",
        object_id=plan.batch,
        details={
            "operation": plan.operation,
            "grids": arguments["grids"],
            "effective": summary["effective"],
            "regions": {k: v for k, v in summary["regions"].items() if k != "successions"},
            "moved": {m.module: m.as_dict()["moved"] for m in report.modules},
        },
    )
    return report


def _modules(actor: Any, plan: GridPlan, *, apply: bool) -> list[RegridResult]:
    placed = ledger.regrid(actor=actor, plan=plan, apply=apply)
    return [
        placed,
        teams.regrid(actor=actor, plan=plan, apply=apply),
        events.regrid(actor=actor, plan=plan, apply=apply),
        campaigns.regrid(actor=actor, plan=plan, placements=placed.placements, apply=apply),
        linkage_regrid(actor=actor, plan=plan, placements=placed.placements, apply=apply),
    ]
