"""The ledger's import endpoint: the upload is checked and queued; the worker imports it."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from wangge.core.api import WRITE_ERRORS, JobFields, job_out
from wangge.ledger import jobs as ledger_jobs

router = Router(tags=["ledger"])


class ImportOut(Schema):
    kind: str
    total: int
    inserted: int
    updated: int
    skipped: int
    rejected: int
    dry_run: bool
    stored: bool
    overridden: int
    errors: list[dict[str, Any]]
    warnings: list[dict[str, Any]]


class ImportJobOut(JobFields):
    result: ImportOut | None = Field(None, description="when done: the import's accounting")


class ImportJobEnvelope(Schema):
    job: ImportJobOut


@router.post(
    "/ledger/import/{kind}",
    response={202: ImportJobEnvelope, **WRITE_ERRORS},
    summary="Queue an import of people, organisations, addresses or things (CSV or XLSX)",
    description="The file is checked (size, type, a workbook's zip directory) and queued; a "
    "worker imports it. Follow `Location` (GET /jobs/{job_id}) for its progress and result.",
)
def ledger_import(
    request: HttpRequest,
    response: HttpResponse,
    kind: Literal["people", "organisations", "addresses", "things"],
    file: File[UploadedFile],
    dry_run: Form[bool] = False,
    on_duplicate: Form[Literal["skip", "update"]] = "skip",
) -> Any:
    job = ledger_jobs.queue_import(
        user=request.user, kind=kind, upload=file, dry_run=dry_run, on_duplicate=on_duplicate
    )
    response["Location"] = reverse("api:job", kwargs={"job_id": job.pk})
    return Status(202, {"job": job_out(job)})
