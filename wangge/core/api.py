"""What every module's API uses: authentication, the one error shape, pagination, scope access."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from typing import Annotated, Any, Literal

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import DocsBase
from ninja.security import HttpBearer, SessionAuth
from pydantic import AfterValidator, ValidationInfo

from wangge.core import dates
from wangge.core.errors import MalformedRequest, WanggeError
from wangge.core.middleware import register_refusal
from wangge.core.scope import Scope, scope_for
from wangge.core.services import token_authenticate

log = logging.getLogger(__name__)


class ErrorOut(Schema):
    code: str
    message: str
    details: Any = None


def _moment(value: dt.datetime, info: ValidationInfo) -> dt.datetime:
    return dates.checked_moment(value, field=info.field_name or "")


def _day(value: dt.date, info: ValidationInfo) -> dt.date:
    return dates.checked_day(value, field=info.field_name or "")


# Date and date-time parameters the API takes in: within core.dates' years, date-times aware.
# The validators raise DateOutOfRange, not ValueError, so pydantic passes it through and the
# client gets the domain error's 400 `date_out_of_range` (not the 422 of a malformed value).
Moment = Annotated[dt.datetime, AfterValidator(_moment)]
Day = Annotated[dt.date, AfterValidator(_day)]


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


def docs_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The API docs and the OpenAPI document are for logged-in users, as everything on the
    intranet is: a session or a Bearer token. Anonymous visitors of the docs page go to the
    login page; the document answers 401 in the API's error shape."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated or BearerAuth()(request) is not None:
            return view(request, *args, **kwargs)
        match = request.resolver_match
        if match is not None and match.url_name == "openapi-json":
            return JsonResponse(
                {"code": "unauthenticated", "message": _("Please log in."), "details": None},
                status=401,
            )
        return redirect_to_login(request.get_full_path())

    return wrapped


class ApiDocs(DocsBase):
    """Swagger UI from our own static files (npm's swagger-ui-dist, copied like Leaflet): no
    CDN, and no inline script, which the Content-Security-Policy would refuse."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        return render(
            request,
            "core/api_docs.html",
            {"api": api, "openapi_url": self.get_openapi_url(api, kwargs)},
        )


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

    # The same answer to a request the middleware turns away before the API sees it.
    register_refusal(api.urls_namespace, _domain)

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

    @api.exception_handler(MultiPartParserError)
    @api.exception_handler(SuspiciousOperation)
    def _unreadable(request: HttpRequest, exc: Exception) -> HttpResponse:
        # Django reads a body on first use of request.body/POST/FILES; one it cannot read (no
        # usable multipart boundary, over the size limit, too many fields) is the client's.
        log.warning("unreadable API request %s %s: %s", request.method, request.path, exc)
        return _domain(request, MalformedRequest())

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
        codes=obj.scope_codes(),
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
