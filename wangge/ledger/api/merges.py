"""Merging two ledger records found to be one, and undoing it. Handlers translate; the
services decide (both records editable by the actor, current, a reason)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from wangge.core.api import ERRORS, actor
from wangge.ledger import selectors, services
from wangge.ledger.api.common import LEDGER_WRITE_ERRORS

router = Router(tags=["ledger"])


class MergeIn(Schema):
    kind: Literal["person", "organisation"]
    survivor_id: int = Field(ge=1, le=2**63 - 1, description="the record that stays")
    merged_id: int = Field(
        ge=1, le=2**63 - 1, description="the duplicate: retired, pointing at the survivor"
    )
    reason: str = Field(max_length=500, description="why they are one (kept with the merge)")


class UndoIn(Schema):
    reason: str = Field(max_length=500)


class MergeOut(Schema):
    id: int
    kind: str
    survivor_id: int
    merged_id: int
    reason: str
    filled: list[str] = Field(description="the survivor's blank fields filled from the other")
    conflicts: list[str] = Field(
        description="fields on which the two differed (the survivor's value was kept)"
    )
    kept_on_undo: list[str] = Field(
        description="filled fields the survivor changed since, kept when the merge was undone"
    )
    counts: dict[str, int] = Field(description="how many of each thing moved")
    created_by_name: str
    created_at: dt.datetime
    undone_at: dt.datetime | None = None
    undone_by_name: str = ""
    undo_reason: str = ""
    can_undo: bool


@router.post(
    "/ledger/merges",
    response={201: MergeOut, **LEDGER_WRITE_ERRORS},
    summary="Merge a duplicate into the record that stays (audited; can be undone)",
)
def merge_create(request: HttpRequest, payload: MergeIn) -> Any:
    who = actor(request)
    merge = services.merge_records(
        actor=who,
        kind=payload.kind,
        survivor_id=payload.survivor_id,
        merged_id=payload.merged_id,
        reason=payload.reason,
    )
    return Status(201, selectors.merge_summary(actor=who, merge=merge))


@router.get(
    "/ledger/merges/{merge_id}",
    response={200: MergeOut, **ERRORS},
    summary="One merge (for whoever sees one of its two records)",
)
def merge_detail(request: HttpRequest, merge_id: int) -> Any:
    who = actor(request)
    merge = selectors.merge_get(actor=who, merge_id=merge_id)
    return selectors.merge_summary(actor=who, merge=merge)


@router.post(
    "/ledger/merges/{merge_id}/undo",
    response={200: MergeOut, **LEDGER_WRITE_ERRORS},
    summary="Undo a merge: put back what moved (409 when undone already or unsafe)",
)
def merge_undo(request: HttpRequest, merge_id: int, payload: UndoIn) -> Any:
    who = actor(request)
    merge = services.unmerge_records(actor=who, merge_id=merge_id, reason=payload.reason)
    return selectors.merge_summary(actor=who, merge=merge)
