"""The ledger import as a background job (the UI's path): the upload is kept encrypted until a
worker runs it as the user who queued it, reporting progress as it goes."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wangge.core import exports, jobs
from wangge.core.errors import ValidationFailed
from wangge.core.models import Job
from wangge.core.scope import scope_for
from wangge.core.tabular import read_table_path
from wangge.ledger.importers import ledger_import

KIND = "ledger.import"


def queue_import(
    *, user: Any, kind: str, data: bytes, filename: str, dry_run: bool, on_duplicate: str
) -> Job:
    suffix = Path(filename).suffix.lower() or ".csv"
    total = max(data.count(b"\n") - 1, 0) if suffix != ".xlsx" else None
    token = exports.store(data)
    return jobs.job_create(
        actor_user=user,
        kind=KIND,
        params={
            "kind": kind,
            "file": token,
            "suffix": suffix,
            "filename": filename[:100],
            "dry_run": dry_run,
            "on_duplicate": on_duplicate,
        },
        total=total,
    )


def run_import(job: Job, progress: Callable[[int], None]) -> dict[str, Any]:
    params = job.params
    data = exports.load(params["file"])
    if data is None:
        raise ValidationFailed("the uploaded file is gone", code="upload_missing")
    with tempfile.NamedTemporaryFile(suffix=params["suffix"]) as handle:
        handle.write(data)
        handle.flush()
        result = ledger_import(
            actor=scope_for(job.created_by),
            kind=params["kind"],
            table=read_table_path(handle.name),
            dry_run=params["dry_run"],
            on_duplicate=params["on_duplicate"],
            progress=progress,
        )
    summary = result.as_dict()
    summary["errors"] = summary["errors"][:500]
    summary["warnings"] = summary["warnings"][:500]
    if result.rejected_rows:
        summary["error_file"] = exports.store(result.error_file())
    progress(result.total)
    return summary


def register() -> None:
    jobs.register(KIND, run_import)
