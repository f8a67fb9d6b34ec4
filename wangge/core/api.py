"""What every module's API uses: authentication, the one error shape, pagination, scope access."""

from __future__ import annotations

import logging
from typing import Any, Literal

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, SessionAuth

from wangge.core.errors import WanggeError
from wangge.core.scope import Scope, scope_for
from wangge.core.services import token_authenticate

log = logging.getLogger(__name__)


class ErrorOut(Schema):
    code: str
    message: str
    details: Any = None


class BearerAuth(HttpBearer):
    """`Authorization: Bearer wg_…` (tokens from `wangge token create USERNAME`)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_authenticate(token)
        if user is None:
            return None
        request.user = user
        return user


def api_auth() -> list[Any]:
    return [BearerAuth(), SessionAuth(csrf=True)]


def actor(request: HttpRequest) -> Scope:
    return scope_for(request.auth)  # type: ignore[attr-defined]


def error_response(
    api: NinjaAPI, request: HttpRequest, status: int, code: str, message: str, details: Any = None
) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "details": details}, status=status
    )


def install_error_handlers(api: NinjaAPI) -> None:
    """All errors leave the API as {"code", "message", "details"}; never a stack trace."""

    @api.exception_handler(WanggeError)
    def _domain(request: HttpRequest, exc: WanggeError) -> HttpResponse:
        return error_response(api, request, exc.status, exc.code, exc.message, exc.details)

    @api.exception_handler(Http404)
    def _404(request: HttpRequest, exc: Exception) -> HttpResponse:
        return error_response(api, request, 404, "not_found", _("Not found."))

    @api.exception_handler(AuthenticationError)
    def _401(request: HttpRequest, exc: Exception) -> HttpResponse:
        return error_response(api, request, 401, "unauthenticated", _("Please log in."))

    @api.exception_handler(ValidationError)
    def _422(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        details = [
            {"loc": [str(p) for p in e.get("loc", [])], "msg": str(e.get("msg", ""))}
            for e in exc.errors
        ]
        return error_response(api, request, 422, "invalid", _("The input is not valid."), details)

    @api.exception_handler(HttpError)
    def _http(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return error_response(api, request, exc.status_code, "http_error", str(exc))

    @api.exception_handler(Exception)
    def _500(request: HttpRequest, exc: Exception) -> HttpResponse:
        log.exception("unhandled API error on %s", request.path)
        return error_response(
            api, request, 500, "server_error", _("Internal error. It has been logged.")
        )


ERRORS: dict[int, type[Schema]] = {400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
WRITE_ERRORS: dict[int, type[Schema]] = {**ERRORS, 403: ErrorOut}


class RevealIn(Schema):
    field: Literal["phone", "id_number"]
    reason: str = Field(min_length=1, max_length=500)


class RevealOut(Schema):
    field: str
    value: str


def reveal_response(*, who: Scope, obj: Any, object_type: str, payload: RevealIn) -> dict[str, str]:
    """Check the role and reason, audit the look, and return the one full value."""
    from wangge.core.personal import reveal

    reveal(
        actor=who,
        object_type=object_type,
        object_id=obj.pk,
        field=payload.field,
        reason=payload.reason,
    )
    return {"field": payload.field, "value": str(getattr(obj, payload.field))}


class JobFields(Schema):
    """A background job as its owner sees it; each kind of job adds its `result`."""

    id: int
    kind: str = Field(description="the job's kind, e.g. ledger.import")
    status: Literal["queued", "running", "done", "failed"]
    progress: int = Field(description="rows (or items) done so far")
    total: int | None = Field(None, description="rows expected, when known beforehand")
    error: str = Field("", description="when failed: why, for people")


class JobOut(JobFields):
    result: dict[str, Any] | None = Field(
        None, description="when done: what the job produced (an import: ImportOut)"
    )


class JobEnvelope(Schema):
    job: JobOut


def job_out(job: Any) -> dict[str, Any]:
    """A job as the API shows it to its owner (`JobOut`)."""
    from wangge.core import jobs

    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "progress": job.progress,
        "total": job.total,
        "result": jobs.job_result_view(job),
        "error": job.error,
    }
