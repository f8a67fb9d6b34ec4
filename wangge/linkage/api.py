"""The linkage API under /api/v1/linkage/ (handlers translate; services and selectors decide).

- `/linkage/sources` — the department lists; `POST` creates or changes one.
- `/linkage/sources/{code}/batches` — upload a file (multipart), with an optional mapping.
- `/linkage/batches/{id}` — a batch and its counts; `/rows` its rows (masked, keyset by row);
  `/run` queues the linking (202, follow `Location`).
- `/linkage/pairs` — the review queue; `/linkage/pairs/{id}` one pair with its evidence;
  `/linkage/pairs/{id}/decision` accept, reject or not sure.
- `/linkage/duplicates` — look for duplicates inside the ledger of a region.
- `/linkage/records/{kind}/{id}/provenance` — where each value of a record came from.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from wangge.core.api import ERRORS, WRITE_ERRORS, ErrorOut, JobFields, actor, job_out
from wangge.core.errors import ValidationFailed
from wangge.core.tabular import check_upload, read_table, upload_bytes
from wangge.ledger import selectors as ledger_selectors
from wangge.ledger import services as ledger_services
from wangge.linkage import jobs, selectors, services
from wangge.linkage.models import Batch, Pair, Source

router = Router(tags=["linkage"])

Kind = Literal["people", "organisations"]


class SourceOut(Schema):
    code: str = Field(examples=["mz-elderly"])
    name: str = Field(examples=["民政高龄津贴名单"])
    department_code: str = Field(examples=["minzheng"])
    kind: Kind
    region_code: str = Field(description="the district the list belongs to")
    mapping: dict[str, str] = Field(description="ledger field → the file's header")
    trusted: list[str] = Field(description="fields whose values from this list win")
    upper: float = Field(description="link above this probability")
    lower: float = Field(description="review above this probability")
    below: Literal["new", "tag"] = Field(description="what a row matching nobody becomes")
    care_tag: str = Field(description="care group given to the people listed")
    sensitive: bool = Field(description="being on the list is sensitive (ledger.sensitive)")


class SourceIn(Schema):
    code: str = Field(min_length=1, max_length=40, examples=["mz-elderly"])
    kind: Kind
    name: str = Field("", max_length=100)
    department_code: str = Field("", max_length=32)
    region_code: str = Field("", max_length=15, description="the district (when several)")
    upper: float | None = Field(None, ge=0, le=1)
    lower: float | None = Field(None, ge=0, le=1)
    below: Literal["new", "tag"] | None = None
    care_tag: str | None = Field(None, max_length=20)
    trusted: list[str] | None = Field(None, max_length=20)
    sensitive: bool | None = None


class ListUploadOut(Schema):
    batch: int
    source: str
    rows: int
    accepted: int
    rejected: int
    mapping: dict[str, str]
    errors: list[dict[str, Any]]
    warnings: list[dict[str, Any]] = Field(description="rows kept with a flaw (an invalid ID)")


class BatchOut(Schema):
    id: int
    source: str
    filename: str
    status: Literal["imported", "running", "linked", "failed"]
    rows: int
    counts: dict[str, int]
    mapping: dict[str, str]
    created_at: dt.datetime
    created_by: str
    run_at: dt.datetime | None
    run_seconds: float | None

    @staticmethod
    def resolve_source(obj: Batch) -> str:
        return obj.source.code

    @staticmethod
    def resolve_created_by(obj: Batch) -> str:
        return obj.created_by_name


class RowOut(Schema):
    row: int
    status: Literal["pending", "linked", "review", "new", "rejected"]
    method: str
    record_id: int | None
    probability: float | None
    errors: list[dict[str, Any]]
    grid_code: str
    values: dict[str, str] = Field(description="masked: ID number to its region, birth year")


class RunJobEnvelope(Schema):
    job: JobFields


class EvidenceOut(Schema):
    field: str
    level: str
    weight: float


class PairOut(Schema):
    id: int
    kind: Literal["batch", "duplicate"]
    record_kind: Kind
    batch: int | None
    row: int | None
    left_id: int | None = Field(description="for a duplicate: the other ledger record")
    record_id: int
    probability: float
    weight: float
    evidence: list[EvidenceOut]
    status: Literal["open", "accepted", "rejected", "unsure", "closed"]
    grid_code: str
    decided_by: str
    decided_at: dt.datetime | None

    @staticmethod
    def resolve_batch(obj: Pair) -> int | None:
        return obj.batch_row.batch_id if obj.batch_row else None

    @staticmethod
    def resolve_row(obj: Pair) -> int | None:
        return obj.batch_row.row if obj.batch_row else None

    @staticmethod
    def resolve_decided_by(obj: Pair) -> str:
        return obj.decided_by_name


class CompareOut(Schema):
    field: str
    left: str
    right: str
    level: str
    weight: float | None


class PairDetailOut(Schema):
    pair: PairOut
    fields: list[CompareOut]


class DecisionIn(Schema):
    decision: Literal["accept", "reject", "unsure"]
    note: str = Field("", max_length=200)
    survivor_id: int | None = Field(None, description="for a duplicate: the record kept")


class DuplicatesIn(Schema):
    region_code: str = Field(min_length=6, max_length=15, examples=["440704003"])
    kind: Kind = "people"


class DuplicatesOut(Schema):
    records: int
    suspected: int
    queued: int


class ValueOut(Schema):
    value: str = Field(description="masked where personal")
    source: str
    source_code: str
    batch: int
    observed_on: dt.date
    wins: bool


class FieldProvenanceOut(Schema):
    field: str
    conflict: bool = Field(description="the lists disagree")
    values: list[ValueOut]


class ProvenanceOut(Schema):
    record_id: int
    fields: list[FieldProvenanceOut]


def _source_out(source: Source) -> dict[str, Any]:
    return {
        "code": source.code,
        "name": source.name,
        "department_code": source.department_code,
        "kind": source.kind,
        "region_code": source.region_code,
        "mapping": source.mapping,
        "trusted": source.trusted,
        "upper": source.upper,
        "lower": source.lower,
        "below": source.below,
        "care_tag": source.care_tag,
        "sensitive": source.sensitive,
    }


@router.get(
    "/linkage/sources", response={200: list[SourceOut], **ERRORS}, summary="Department lists"
)
def source_list(request: HttpRequest) -> Any:
    return [_source_out(s) for s in selectors.source_list(actor=actor(request))]


@router.post(
    "/linkage/sources",
    response={200: SourceOut, **WRITE_ERRORS, 409: ErrorOut},
    summary="Create a department list or change its settings",
)
def source_save(request: HttpRequest, payload: SourceIn) -> Any:
    return _source_out(services.source_save(actor=actor(request), **payload.dict()))


@router.post(
    "/linkage/sources/{code}/batches",
    response={201: ListUploadOut, **WRITE_ERRORS},
    summary="Upload a file of a department list (CSV or XLSX)",
    description="Every row is accounted for: kept to be linked, or rejected with its row, "
    "column and reason. `mapping` (JSON, field → header) confirms the columns; without it the "
    "list's remembered mapping or one suggested from the headers is used.",
)
def batch_upload(
    request: HttpRequest, code: str, file: File[UploadedFile], mapping: Form[str] = ""
) -> Any:
    given = None
    if mapping:
        try:
            given = json.loads(mapping)
        except json.JSONDecodeError:
            given = None
        if not isinstance(given, dict):
            raise ValidationFailed(code="bad_mapping")
    data = upload_bytes(file)
    check_upload(data, file.name or "")
    summary = services.batch_import(
        actor=actor(request),
        source_code=code,
        table=read_table(data, file.name or ""),
        filename=file.name or "upload.csv",
        mapping=given,
    )
    return Status(201, summary.as_dict())


@router.get(
    "/linkage/batches/{batch_id}",
    response={200: BatchOut, **ERRORS},
    summary="A batch and its counts",
)
def batch_get(request: HttpRequest, batch_id: int) -> Any:
    return selectors.batch_get(actor=actor(request), batch_id=batch_id)


@router.get(
    "/linkage/batches/{batch_id}/rows",
    response={200: list[RowOut], **ERRORS},
    summary="A batch's rows, masked (keyset by row number: pass the last as `after`)",
)
def batch_rows(
    request: HttpRequest,
    batch_id: int,
    status: Query[str] = "",
    after: Query[int] = 0,
    limit: int = Query(100, ge=1, le=500),
) -> Any:
    _batch, rows = selectors.batch_rows(
        actor=actor(request), batch_id=batch_id, status=status, after=after, limit=limit
    )
    return rows


@router.post(
    "/linkage/batches/{batch_id}/run",
    response={202: RunJobEnvelope, **WRITE_ERRORS},
    summary="Queue the linking of a batch (follow Location for its result)",
)
def batch_run(request: HttpRequest, response: HttpResponse, batch_id: int) -> Any:
    job = jobs.queue_run(user=request.user, batch_id=batch_id)
    response["Location"] = reverse("api:job", kwargs={"job_id": job.pk})
    return Status(202, {"job": job_out(job)})


@router.get(
    "/linkage/pairs",
    response={200: list[PairOut], **ERRORS},
    summary="The review queue in the caller's grids",
)
def pair_list(
    request: HttpRequest,
    status: Query[str] = "open",
    kind: Query[str] = "",
    grid: Query[str] = "",
    limit: int = Query(100, ge=1, le=500),
) -> Any:
    return list(
        selectors.pair_queue(actor=actor(request), status=status, kind=kind, grid=grid)[:limit]
    )


@router.get(
    "/linkage/pairs/{pair_id}",
    response={200: PairDetailOut, **ERRORS},
    summary="One pair side by side, with the evidence field by field",
)
def pair_get(request: HttpRequest, pair_id: int) -> Any:
    scope = actor(request)
    detail = selectors.pair_detail(actor=scope, pair_id=pair_id)
    for pk in detail["people_seen"]:
        ledger_services.person_viewed(
            actor=scope, person=ledger_selectors.person_get(actor=scope, person_id=pk), via="api"
        )
    return {"pair": detail["pair"], "fields": detail["fields"]}


@router.post(
    "/linkage/pairs/{pair_id}/decision",
    response={200: PairOut, **WRITE_ERRORS, 409: ErrorOut},
    summary="Accept (link or merge), reject, or not sure",
)
def pair_decide(request: HttpRequest, pair_id: int, payload: DecisionIn) -> Any:
    return services.pair_decide(
        actor=actor(request),
        pair_id=pair_id,
        decision=payload.decision,
        note=payload.note,
        survivor_id=payload.survivor_id,
    )


@router.post(
    "/linkage/duplicates",
    response={200: DuplicatesOut, **WRITE_ERRORS},
    summary="Look for suspected duplicates inside the ledger of a region",
)
def duplicates(request: HttpRequest, payload: DuplicatesIn) -> Any:
    return services.duplicates_find(
        actor=actor(request), region_code=payload.region_code, kind=payload.kind
    )


@router.get(
    "/linkage/records/{kind}/{record_id}/provenance",
    response={200: ProvenanceOut, **ERRORS},
    summary="Where each value of a ledger record came from",
)
def provenance(request: HttpRequest, kind: Kind, record_id: int) -> Any:
    scope = actor(request)
    detail = selectors.record_provenance(actor=scope, kind=kind, record_id=record_id)
    if kind == "people":
        ledger_services.person_viewed(actor=scope, person=detail["record"], via="api")
    return {"record_id": detail["record"].pk, "fields": detail["fields"]}
