"""The campaigns API under /api/v1/ (handlers translate; services and selectors decide).

- `/campaigns` — list, create; `/campaigns/{id}` — one; its `/tasks`, `/progress`, `/quality`.
- `/campaign-tasks/mine` — the actor's tasks (what is left, returned ones with the reason).
- `/campaign-tasks/{id}` — a task with what the actor may do; its `/package` (the offline
  worklist, gzip when accepted), `/edits` (a batch from the phone, idempotent by key),
  `/actions/{action}` (take, renew, release, start, submit, approve, return), `/assignees`,
  `/conflicts` and `/conflicts/{edit_id}/resolve`.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from typing import Any, Literal

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from wangge.campaigns import edits, selectors, services
from wangge.campaigns.models import Campaign, Task, TaskAssignee, TaskState
from wangge.core.api import ERRORS, WRITE_ERRORS, Day, ErrorOut, actor

router = Router(tags=["campaigns"])

CONFLICT_ERRORS: dict[int, Any] = {**WRITE_ERRORS, 409: ErrorOut}


# -- schemas ----------------------------------------------------------------------------------


class CampaignOut(Schema):
    id: int = Field(examples=[1])
    name: str = Field(examples=["2022年4月基础信息采集核查"])
    template: str = Field(description="the template's code", examples=["basic"])
    template_name: str = Field(examples=["基础信息采集核查"])
    region_code: str = Field(description="the narrowest region holding all its regions")
    regions: list[str] = Field(examples=[["440704"]])
    kinds: list[str] = Field(examples=[["person", "household", "room", "organisation", "thing"]])
    start: dt.date
    end: dt.date
    status: Literal["open", "closed"]
    spot_check_rate: float = Field(description="share of tasks the street spot-checks (0–1)")
    visits: bool = Field(description="households record a visit outcome")
    findings: bool = Field(description="hazard findings become events")
    version: int

    @staticmethod
    def resolve_template(obj: Campaign) -> str:
        return obj.template.code

    @staticmethod
    def resolve_template_name(obj: Campaign) -> str:
        return obj.template.name

    @staticmethod
    def resolve_visits(obj: Campaign) -> bool:
        return bool(obj.spec.get("visits"))

    @staticmethod
    def resolve_findings(obj: Campaign) -> bool:
        return bool(obj.spec.get("findings"))


class CampaignIn(Schema):
    name: str = Field(min_length=1, max_length=100, examples=["2022年4月基础信息采集核查"])
    template: str = Field(
        description="basic, visit, rental or hazard (the templates' codes)", examples=["basic"]
    )
    regions: list[str] = Field(
        min_length=1,
        max_length=500,
        description="district, street, community or grid codes",
        examples=[["440704003"]],
    )
    start: Day = Field(examples=["2022-04-19"])
    end: Day = Field(examples=["2022-04-30"])
    kinds: list[str] | None = Field(
        None, description="narrow the template's kinds", examples=[["person", "household"]]
    )
    spot_check_rate: float | None = Field(None, ge=0, le=1, examples=[0.1])
    team_assigned: bool = Field(
        True, description="assign each task to the grid's team (false: workers take tasks)"
    )
    criteria: dict[str, Any] | None = Field(
        None,
        description="the epidemic list: {reasons: [...], recent_days: n}",
        examples=[{"reasons": ["elderly80", "alone"], "recent_days": 14}],
    )


class CampaignCreatedOut(Schema):
    campaign: CampaignOut
    tasks: int = Field(description="tasks made: one per grid of the regions", examples=[190])


class TaskOut(Schema):
    id: int = Field(examples=[12])
    campaign_id: int
    parent_id: int | None = Field(None, description="the grid's task, for a part of it")
    title: str = Field(examples=["英南村第1网格"])
    grid_code: str = Field(examples=["440704003001001"])
    state: str = Field(examples=["in_progress"])
    state_label: str = Field(examples=["进行中"])
    version: int
    team_assigned: bool
    held_by: str = Field("", description="who holds a task taken rather than assigned")
    held_until: dt.datetime | None = Field(None, description="the hold's expiry (renewable)")
    returned_reason: str = Field("", description="why it was last returned")
    returns: int
    spot_check: bool
    submitted_at: dt.datetime | None
    reviewed_at: dt.datetime | None

    @staticmethod
    def resolve_state_label(obj: Task) -> str:
        return str(TaskState(obj.state).label)

    @staticmethod
    def resolve_held_by(obj: Task) -> str:
        return str(obj.held_by) if obj.held_by_id and obj.held_by else ""


class AbilitiesOut(Schema):
    work: bool = Field(description="may send field edits")
    submit: bool
    take: bool = Field(description="may take (or renew) this unassigned task")
    review: bool = Field(description="may approve or return it now")
    review_refusal: str = Field("", description="why not, when the actor reviews elsewhere")
    manage: bool = Field(description="may name people on it")
    resolve: bool = Field(description="may resolve its conflicts")


class AssigneeOut(Schema):
    user_id: int
    user: str
    role: Literal["responsible", "collector", "helper"]

    @staticmethod
    def resolve_user(obj: TaskAssignee) -> str:
        return str(obj.user)


class TaskDetailOut(Schema):
    task: TaskOut
    abilities: AbilitiesOut
    assignees: list[AssigneeOut]


class MyTaskOut(Schema):
    task: TaskOut
    campaign: str = Field(examples=["2022年4月基础信息采集核查"])
    campaign_end: dt.date
    left: int = Field(description="records still to check", examples=[312])
    total: int = Field(examples=[2041])
    conflicts: int
    role: str = Field(description="responsible, collector, helper or team", examples=["team"])


StateName = Literal["", "assigned", "in_progress", "submitted", "reviewed", "approved", "returned"]


class TaskFilter(Schema):
    state: StateName = ""
    q: str = Field("", max_length=50, description="title contains, or grid code prefix")


class EditIn(Schema):
    """One edit as the phone made it. Malformed edits are refused one by one in the results
    (status `rejected` with a code), not as a failed batch."""

    key: str = Field(
        description="idempotency key, unique per edit", examples=["5f0c4e0b9a1e4c9d8f7a"]
    )
    op: str = Field(
        description="confirm, correct, retire, add, visit, finding", examples=["correct"]
    )
    kind: str = Field(
        description="person, household, room, organisation, thing", examples=["person"]
    )
    record_id: int | None = Field(None, examples=[1042])
    base_version: int | None = Field(None, description="the version it started from")
    ref: str = Field("", description="the phone's temporary name of a record it added")
    device: str = Field("", description="the phone's random id", examples=["d-7f3a"])
    seq: int = Field(0, ge=0, description="the device's sequence number", examples=[17])
    made_at: str | None = Field(None, description="ISO time it was made on the phone")
    values: dict[str, Any] = Field(
        default_factory=dict,
        description="correct/add: {fields: {...}}; retire: {reason, on, note}; "
        "visit: {outcome}; finding: {category, title, description, lon, lat}",
        examples=[{"fields": {"occupation": "渔民"}}],
    )


class EditBatchIn(Schema):
    edits: list[EditIn] = Field(max_length=edits.MAX_BATCH)


class EditResultOut(Schema):
    key: str
    status: Literal["applied", "conflict", "rejected", "held", "resolved"]
    record_id: int | None = None
    version: int | None = Field(None, description="the record's version after the edit")
    code: str = ""
    message: str = ""
    errors: list[Any] = Field(default_factory=list)
    conflict_fields: list[str] = Field(
        default_factory=list, description="fields changed on the server since base_version"
    )
    event_id: int | None = Field(None, description="the event a finding became")


class TaskStateOut(Schema):
    id: int
    state: str
    version: int


class EditBatchOut(Schema):
    results: list[EditResultOut] = Field(description="one per edit sent, in the order sent")
    task: TaskStateOut


class TaskActionIn(Schema):
    version: int | None = Field(None, description="fail with 409 if the task changed since")
    reason: str = Field("", max_length=300, description="for return: why (required)")


TaskAction = Literal["take", "renew", "release", "start", "submit", "approve", "return"]


class AssignIn(Schema):
    username: str = Field(min_length=1, max_length=150, examples=["demo-street"])
    role: Literal["responsible", "collector", "helper"] = "helper"


class ConflictRowOut(Schema):
    field: str
    field_value: Any = Field(description="what the phone sent (personal values masked)")
    ledger_value: Any = Field(description="the ledger's value now (masked)")


class ConflictOut(Schema):
    id: int = Field(description="the edit's id (resolve it by this)")
    op: str
    kind: str
    record_id: int | None
    title: str
    by: str
    made_at: dt.datetime
    base_version: int | None
    current_version: int | None
    changed_since: list[str]
    rows: list[ConflictRowOut]
    retire: dict[str, Any]


class ResolveIn(Schema):
    choice: Literal["server", "field"] = Field(
        description="server: keep the ledger's value; field: apply the phone's onto it"
    )


class ResolvedOut(Schema):
    id: int
    status: str
    resolution: str


class ProgressRecordsOut(Schema):
    total: int
    verified: int = Field(description="confirmed + corrected + retired + added")
    confirmed: int
    corrected: int
    added: int
    retired: int
    conflict: int


class ProgressRowOut(Schema):
    code: str
    name: str
    tasks: int
    by_state: dict[str, int]
    records: dict[str, ProgressRecordsOut]
    households: dict[str, int] = Field(description="households by visit outcome")
    conflicts: int


class ProgressOut(Schema):
    tasks: int = Field(examples=[190])
    by_state: dict[str, int] = Field(examples=[{"approved": 150, "submitted": 30}])
    records: dict[str, ProgressRecordsOut]
    households: dict[str, int]
    conflicts: int = Field(description="conflicting edits waiting for a reviewer")
    days_left: int
    rows: list[ProgressRowOut] = Field(
        default_factory=list, description="with `level`: one row per region of that level"
    )


class QualityRowOut(Schema):
    grid_code: str
    grid: str
    kind: str
    before: dict[str, int] = Field(description="the snapshot taken when the campaign opened")
    now: dict[str, int]


# -- campaigns --------------------------------------------------------------------------------


@router.get("/campaigns", response={200: list[CampaignOut], **ERRORS}, summary="Campaigns I see")
def campaign_list(request: HttpRequest) -> Any:
    return selectors.campaign_list(actor=actor(request))


@router.post(
    "/campaigns",
    response={201: CampaignCreatedOut, **WRITE_ERRORS},
    summary="Start a campaign: one task per grid of its regions",
)
def campaign_create(request: HttpRequest, payload: CampaignIn) -> Any:
    campaign = services.campaign_create(
        actor=actor(request),
        name=payload.name,
        template=payload.template,
        regions=payload.regions,
        start=payload.start,
        end=payload.end,
        kinds=payload.kinds,
        spot_check_rate=payload.spot_check_rate,
        criteria=payload.criteria,
        team_assigned=payload.team_assigned,
    )
    return Status(
        201, {"campaign": campaign, "tasks": selectors.campaign_task_count(campaign=campaign)}
    )


@router.get(
    "/campaigns/{campaign_id}", response={200: CampaignOut, **ERRORS}, summary="One campaign"
)
def campaign_detail(request: HttpRequest, campaign_id: int) -> Any:
    return selectors.campaign_get(actor=actor(request), campaign_id=campaign_id)


@router.get(
    "/campaigns/{campaign_id}/tasks",
    response={200: list[TaskOut], **ERRORS},
    summary="A campaign's tasks I see (filter by state)",
)
def campaign_tasks(request: HttpRequest, campaign_id: int, filters: Query[TaskFilter]) -> Any:
    who = actor(request)
    campaign = selectors.campaign_get(actor=who, campaign_id=campaign_id)
    return selectors.campaign_tasks(actor=who, campaign=campaign, state=filters.state, q=filters.q)


@router.get(
    "/campaigns/{campaign_id}/progress",
    response={200: ProgressOut, **ERRORS},
    summary="Progress: records verified per kind, visits, conflicts, tasks by state",
)
def campaign_progress(
    request: HttpRequest,
    campaign_id: int,
    level: Literal["", "street", "community", "grid"] = "",
) -> Any:
    who = actor(request)
    campaign = selectors.campaign_get(actor=who, campaign_id=campaign_id)
    return selectors.progress(actor=who, campaign=campaign, level=level)


@router.get(
    "/campaigns/{campaign_id}/quality",
    response={200: list[QualityRowOut], **ERRORS},
    summary="Data quality per grid and kind: when it opened and now",
)
def campaign_quality(request: HttpRequest, campaign_id: int) -> Any:
    who = actor(request)
    campaign = selectors.campaign_get(actor=who, campaign_id=campaign_id)
    return selectors.quality_report(actor=who, campaign=campaign)


# -- tasks ----------------------------------------------------------------------------------


@router.get(
    "/campaign-tasks/mine",
    response={200: list[MyTaskOut], **ERRORS},
    summary="My tasks: what is left, what came back and why",
)
def my_tasks(request: HttpRequest) -> Any:
    return [
        {
            "task": m.task,
            "campaign": m.task.campaign.name,
            "campaign_end": m.task.campaign.end,
            "left": m.left,
            "total": m.total,
            "conflicts": m.conflicts,
            "role": m.role,
        }
        for m in selectors.my_tasks(actor=actor(request))
    ]


@router.get(
    "/campaign-tasks/{task_id}",
    response={200: TaskDetailOut, **ERRORS},
    summary="One task, with what I may do on it",
)
def task_detail(request: HttpRequest, task_id: int) -> Any:
    who = actor(request)
    task = selectors.task_get(actor=who, task_id=task_id)
    return {
        "task": task,
        "abilities": selectors.task_abilities(actor=who, task=task),
        "assignees": selectors.task_assignees(actor=who, task=task),
    }


@router.get(
    "/campaign-tasks/{task_id}/package",
    response={200: dict[str, Any], **WRITE_ERRORS},
    summary="The offline package: the task's worklist (gzip when accepted)",
)
def task_package(request: HttpRequest, task_id: int) -> HttpResponse:
    data = selectors.task_package(actor=actor(request), task_id=task_id)
    raw = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))
    body = raw.encode()
    response = HttpResponse(content_type="application/json")
    response["Vary"] = "Accept-Encoding"
    response["Cache-Control"] = "private, no-store"
    response["X-Package-Bytes"] = str(len(body))
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        body = gzip.compress(body, compresslevel=6)
        response["Content-Encoding"] = "gzip"
    response.content = body
    return response


@router.post(
    "/campaign-tasks/{task_id}/edits",
    response={200: EditBatchOut, **CONFLICT_ERRORS},
    summary="Send field edits (a batch; a key already stored answers its stored result)",
)
def task_edits(request: HttpRequest, task_id: int, payload: EditBatchIn) -> Any:
    return edits.apply_edits(
        actor=actor(request),
        task_id=task_id,
        edits=[e.dict() for e in payload.edits],
    )


_ACTIONS: dict[str, Any] = {
    "take": lambda who, pk, p: services.task_take(actor=who, task_id=pk),
    "renew": lambda who, pk, p: services.task_take(actor=who, task_id=pk),
    "release": lambda who, pk, p: services.task_release(actor=who, task_id=pk),
    "start": lambda who, pk, p: services.task_start(actor=who, task_id=pk),
    "submit": lambda who, pk, p: services.task_submit(actor=who, task_id=pk, version=p.version),
    "approve": lambda who, pk, p: services.task_approve(actor=who, task_id=pk, version=p.version),
    "return": lambda who, pk, p: services.task_return(
        actor=who, task_id=pk, reason=p.reason, version=p.version
    ),
}


@router.post(
    "/campaign-tasks/{task_id}/actions/{action}",
    response={200: TaskOut, **CONFLICT_ERRORS},
    summary="Act on a task: take/renew, release, start, submit, approve, return (with reason)",
)
def task_action(
    request: HttpRequest, task_id: int, action: TaskAction, payload: TaskActionIn
) -> Any:
    return _ACTIONS[action](actor(request), task_id, payload)


@router.post(
    "/campaign-tasks/{task_id}/assignees",
    response={201: AssigneeOut, **WRITE_ERRORS},
    summary="Name someone on a task (a helper from outside the team, by default)",
)
def task_assign(request: HttpRequest, task_id: int, payload: AssignIn) -> Any:
    named = services.task_assign(
        actor=actor(request), task_id=task_id, username=payload.username, role=payload.role
    )
    return Status(201, named)


@router.get(
    "/campaign-tasks/{task_id}/conflicts",
    response={200: list[ConflictOut], **ERRORS},
    summary="A task's conflicting edits: the field's and the ledger's values side by side",
)
def task_conflicts(request: HttpRequest, task_id: int) -> Any:
    who = actor(request)
    return selectors.conflicts(actor=who, task=selectors.task_get(actor=who, task_id=task_id))


@router.post(
    "/campaign-tasks/{task_id}/conflicts/{edit_id}/resolve",
    response={200: ResolvedOut, **WRITE_ERRORS},
    summary="Resolve a conflict: keep the ledger's value or apply the field's",
)
def conflict_resolve(request: HttpRequest, task_id: int, edit_id: int, payload: ResolveIn) -> Any:
    return services.conflict_resolve(
        actor=actor(request), edit_id=edit_id, choice=payload.choice, task_id=task_id
    )
