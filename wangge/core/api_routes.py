from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from wangge.core import jobs
from wangge.core.api import ERRORS, JobEnvelope, Moment, actor, job_out
from wangge.core.selectors import audit_list

router = Router(tags=["core"])


class GrantOut(Schema):
    role: str
    region_code: str
    department: str | None


class MeOut(Schema):
    username: str
    display_name: str
    grants: list[GrantOut]


@router.get("/me", response={200: MeOut, **ERRORS}, summary="The current user and grants")
def me(request: HttpRequest) -> Any:
    scope = actor(request)
    user: Any = request.auth  # type: ignore[attr-defined]
    return {
        "username": scope.username,
        "display_name": user.display_name,
        "grants": [
            {"role": g.role, "region_code": g.region_code, "department": g.department}
            for g in scope.grants
        ],
    }


class AuditOut(Schema):
    seq: int
    at: datetime
    actor_name: str
    action: str
    object_type: str
    object_id: str
    outcome: str
    client_ip: str
    details: dict[str, Any]
    hash: str


class AuditFilter(Schema):
    action: str = ""
    actor_name: str = Field("", alias="actor")
    object_type: str = ""
    object_id: str = ""
    outcome: str = ""
    since: Moment | None = None
    until: Moment | None = None
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=10_000_000)


class AuditPage(Schema):
    count: int
    items: list[AuditOut]


@router.get("/audit", response={200: AuditPage, **ERRORS}, summary="Browse the audit log")
def audit(request: HttpRequest, filters: Query[AuditFilter]) -> Any:
    qs = audit_list(
        actor=actor(request),
        action=filters.action,
        actor_name=filters.actor_name,
        object_type=filters.object_type,
        object_id=filters.object_id,
        outcome=filters.outcome,
        since=filters.since,
        until=filters.until,
    )
    return {
        "count": qs.count(),
        "items": list(qs[filters.offset : filters.offset + filters.limit]),
    }


@router.get(
    "/jobs/{job_id}",
    response={200: JobEnvelope, **ERRORS},
    url_name="job",
    summary="A background job you queued (an import: its result when done)",
)
def job(request: HttpRequest, job_id: int) -> Any:
    return {"job": job_out(jobs.job_access(request.user, job_id))}
