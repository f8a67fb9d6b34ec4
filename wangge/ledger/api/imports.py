"""The ledger's import endpoint."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Literal

from django.http import HttpRequest
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile

from wangge.core.api import WRITE_ERRORS, actor
from wangge.core.errors import NotFound
from wangge.core.roles import Perm
from wangge.core.tabular import read_table_path
from wangge.ledger import importers

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


@router.post(
    "/ledger/import/{kind}",
    response={200: ImportOut, **WRITE_ERRORS},
    summary="Import people, organisations, addresses or things (CSV or XLSX)",
)
def ledger_import(
    request: HttpRequest,
    kind: Literal["people", "organisations", "addresses", "things"],
    file: File[UploadedFile],
    dry_run: Form[bool] = False,
    on_duplicate: Form[Literal["skip", "update"]] = "skip",
) -> Any:
    who = actor(request)
    if not who.has(Perm.LEDGER_EDIT):
        raise NotFound()
    suffix = Path(file.name or "upload.csv").suffix or ".csv"
    with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
        for chunk in file.chunks():
            handle.write(chunk)
        handle.flush()
        result = importers.ledger_import(
            actor=who,
            kind=kind,
            table=read_table_path(handle.name),
            dry_run=dry_run,
            on_duplicate=on_duplicate,
        )
    return result.as_dict()
