"""What the ledger's API handlers share: error tables, the version from `If-Match` or the body,
the change history schema."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Schema

from wangge.core.api import WRITE_ERRORS, ErrorOut
from wangge.core.errors import ValidationFailed

LEDGER_WRITE_ERRORS: dict[int, Any] = {**WRITE_ERRORS, 409: ErrorOut, 429: ErrorOut}
CREATE_ERRORS: dict[int, Any] = {**LEDGER_WRITE_ERRORS, 202: ErrorOut}


def version_of(request: HttpRequest, body_version: int | None) -> int | None:
    """The version an update started from: `If-Match: "3"` (as the record's ETag gave it) or
    `version` in the body; both must agree when both are sent."""
    header = request.headers.get("If-Match", "").strip()
    from_header: int | None = None
    if header:
        text = header.removeprefix("W/").strip('"')
        if not text.isdigit():
            raise ValidationFailed(code="invalid_if_match", details={"If-Match": header})
        from_header = int(text)
    if from_header is not None and body_version is not None and from_header != body_version:
        raise ValidationFailed(code="version_mismatch", details={"If-Match": header})
    return from_header if from_header is not None else body_version


def with_etag(response: HttpResponse, version: int) -> HttpResponse:
    response["ETag"] = f'"{version}"'
    return response


class VersionIn(Schema):
    version: int | None = Field(None, description='the version you started from (or If-Match: "N")')


class RetireIn(VersionIn):
    reason: str = Field(
        description="moved_away, deceased, closed, removed, demolished, duplicate, other"
    )
    on: dt.date | None = Field(None, description="default today")
    note: str = Field("", max_length=200)


class ChangeOut(Schema):
    version: int
    action: str
    fields: list[str]
    actor_name: str
    at: dt.datetime
