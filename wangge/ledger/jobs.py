"""The ledger import as a background job (the UI's and the API's path): the upload is checked
as far as it can be without parsing it, kept encrypted until a worker runs it as the user who
queued it, and the worker reports progress as it goes. The request that uploads never parses."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from wangge.core import exports, jobs
from wangge.core.errors import PermissionDenied, ValidationFailed
from wangge.core.models import Job
from wangge.core.roles import Perm
from wangge.core.scope import scope_for
from wangge.core.tabular import check_upload, read_table_path, upload_bytes
from wangge.ledger.importers import IMPORTERS, ledger_import

KIND = "ledger.import"


def queue_import(*, user: Any, kind: str, upload: Any, dry_run: bool, on_duplicate: str) -> Job:
    """Queue an import of `upload` (an uploaded file: name, size, read()) for `user`.

    Raises PermissionDenied without the ledger edit role, ValidationFailed for an unknown kind
    or option, or a file refused by its size, type or (a workbook) its zip directory — before
    anything is stored or queued."""
    if not scope_for(user).has(Perm.LEDGER_EDIT):
        raise PermissionDenied(_("Your role may not import into the ledger."))
    if kind not in IMPORTERS:
        raise ValidationFailed(
            _("Choose what to import: %(kinds)s.") % {"kinds": "、".join(sorted(IMPORTERS))},
            code="bad_kind",
        )
    if on_duplicate not in {"skip", "update"}:
        raise ValidationFailed("on_duplicate must be skip or update", code="bad_option")
    filename = upload.name or "upload.csv"
    data = upload_bytes(upload)
    check_upload(data, filename)
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
        raise ValidationFailed(
            _("The uploaded file is no longer kept (files are kept for a day); upload it again."),
            code="upload_missing",
        )
    with tempfile.NamedTemporaryFile(suffix=params["suffix"]) as handle:
        handle.write(data)
        handle.flush()
        del data  # the file on disk is what is read, streamed
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


def result_view(summary: dict[str, Any]) -> dict[str, Any]:
    """The API's view of a finished import: the counts and reasons, not the token of the
    error workbook (which the job page offers)."""
    return {k: v for k, v in summary.items() if k != "error_file"}


def register() -> None:
    jobs.register(KIND, run_import, result_view=result_view)
