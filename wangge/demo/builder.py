"""Builds the demo district through the same services a real district uses."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from wangge.core.models import Department, User
from wangge.core.roles import Role
from wangge.core.scope import Scope
from wangge.core.services import user_create
from wangge.demo import geometry
from wangge.regions.models import Layer, Region
from wangge.regions.services import grant_region, grids_import, layer_create

DISTRICT = "440704"
ACTOR = Scope.system("demo")

LAYER_NAMES = {
    "dangjian": "党建",
    "zhengfa": "政法综治",
    "minzheng": "民政",
    "chengguan": "城管",
    "xinfang": "信访",
    "shichang": "市场监管",
    "weijian": "卫生健康",
    "yingji": "应急管理",
}


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    role: Role
    region: str
    department: str | None = None


DEMO_USERS = [
    DemoUser("demo-district", "区社会治理中心（演示）", Role.DISTRICT_ADMIN, DISTRICT),
    DemoUser("demo-street", "礼乐街道（演示）", Role.STREET_OFFICER, "440704003"),
    DemoUser("demo-community", "英南村（演示）", Role.COMMUNITY_OFFICER, "440704003001"),
    DemoUser("demo-grid", "英南村第1网格网格长（演示）", Role.GRID_LEADER, "440704003001001"),
    DemoUser("demo-dept", "区城管局（演示）", Role.DEPARTMENT_OFFICER, DISTRICT, "chengguan"),
    DemoUser("demo-auditor", "审计员（演示）", Role.AUDITOR, DISTRICT),
]


def demo_password() -> str:
    """WANGGE_DEMO_PASSWORD, or one generated once into the data dir."""
    import os

    given = os.environ.get("WANGGE_DEMO_PASSWORD")
    if given:
        return given
    path = Path(settings.DATA_DIR) / "demo-password"
    if not path.exists():
        path.write_text("wg-" + secrets.token_urlsafe(9))
        path.chmod(0o600)
    return path.read_text().strip()


def is_built() -> bool:
    return Region.objects.dangerously_unscoped().filter(code=DISTRICT).exists()


def build(*, people: int = 3000, events: int = 6000, campaigns: bool = True) -> dict[str, Any]:
    """Build regions, department layers, demo users, teams, the ledger, six months of
    events (`events` of them; 0 for none) and the campaigns (the April 2022 one, part-way
    through, and an open one). Deterministic; raises on any problem."""
    summary: dict[str, Any] = {}
    unified = geometry.build_unified()
    report = grids_import(
        actor=ACTOR, data=json.dumps(unified).encode(), source="演示数据：江海区网格"
    )
    if not report.ok:
        raise RuntimeError(f"demo unified layer rejected: {report.as_dict()['problems'][:5]}")
    summary["regions"] = report.counts
    layers = geometry.build_department_layers()
    for slug, collection in layers.items():
        department = Department.objects.filter(code=slug).first()
        layer_create(
            actor=ACTOR, slug=slug, name=LAYER_NAMES.get(slug, slug), department=department
        )
        layer_report = grids_import(
            actor=ACTOR,
            data=json.dumps(collection).encode(),
            layer=slug,
            source=f"演示数据：{LAYER_NAMES.get(slug, slug)}",
        )
        if not layer_report.ok:
            raise RuntimeError(
                f"demo layer {slug} rejected: {layer_report.as_dict()['problems'][:5]}"
            )
    summary["layers"] = len(layers)
    _users()
    summary["users"] = [u.username for u in DEMO_USERS]
    from wangge.demo import teams

    summary["teams"] = teams.build(ACTOR).as_dict() | {"errors": []}
    from wangge.demo import ledger

    summary["ledger"] = ledger.build(ACTOR, people=people)
    if events:
        from wangge.demo import events as demo_events

        summary["events"] = demo_events.build(ACTOR, events=events)
    if campaigns:
        from wangge.demo import campaigns as demo_campaigns

        summary["campaigns"] = demo_campaigns.build(ACTOR)
    from wangge.demo import linkage as demo_linkage

    # Three departments' own lists, linked to the ledger; some wait for review.
    summary["linkage"] = demo_linkage.build(ACTOR)
    from wangge.dashboard import facts

    # The command centre's facts and figures, as the worker would keep them.
    summary["dashboard"] = facts.facts_rebuild() | {"figures": facts.figures_refresh()}
    return summary


@transaction.atomic
def _users() -> None:
    password = demo_password()
    for spec in DEMO_USERS:
        user = User.objects.filter(username=spec.username).first() or user_create(
            actor=ACTOR, username=spec.username, password=password, display_name=spec.display_name
        )
        department = Department.objects.get(code=spec.department) if spec.department else None
        grant_region(
            actor=ACTOR, user=user, role=spec.role, region_code=spec.region, department=department
        )


def layer_count() -> int:
    return Layer.objects.count()
