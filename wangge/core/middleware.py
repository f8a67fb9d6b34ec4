from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import translation
from django.views.defaults import bad_request, page_not_found

from wangge.core.context import RequestContext, current
from wangge.core.errors import MalformedRequest, NotFound, NulCharacter, WanggeError

log = logging.getLogger(__name__)
Refusal = Callable[[HttpRequest, WanggeError], HttpResponse]
# How an interface answers a request refused before its view runs, by URL namespace: the API
# and Open311 answer in their own error shapes; pages get the 400 page.
_refusals: dict[str, Refusal] = {}


def register_refusal(namespace: str, render: Refusal) -> None:
    _refusals[namespace] = render


def client_ip(request: HttpRequest) -> str:
    """The client address; X-Forwarded-For is trusted only behind WANGGE_PROXY_COUNT proxies."""
    proxies = settings.AXES_IPWARE_PROXY_COUNT
    if proxies:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return str(request.META.get("REMOTE_ADDR", ""))


request_log = logging.getLogger("wangge.request")


class RequestMetricsMiddleware:
    """First in the chain: times every request (static files too), counts it for /metrics and
    writes one log line for it — by route name, never the path or query string, which can hold
    an ID number or a phone (`wangge serve` turns gunicorn's access log off for that reason)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from wangge.core import metrics

        started = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            return response
        finally:
            seconds = time.perf_counter() - started
            route, method = metrics.route_name(request), metrics.method_label(request.method)
            metrics.observe_request(route=route, method=method, status=status, seconds=seconds)
            request_log.info(
                "%s %s %d %.1fms",
                method,
                route,
                status,
                seconds * 1000,
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 1),
                },
            )


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current.set(RequestContext(client_ip=client_ip(request), path=request.path))
        try:
            return self.get_response(request)
        finally:
            current.reset(token)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # Selectors raise NotFound for missing and out-of-scope alike; pages show the same 404.
        if isinstance(exception, NotFound):
            return page_not_found(request, Http404())
        return None


class LanguageMiddleware:
    """zh-Hans for everyone unless they chose English (language cookie, set by /i18n/setlang/).

    Unlike Django's LocaleMiddleware this ignores Accept-Language: staff on government PCs
    often have English-language browsers and still expect the Chinese UI.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.allowed = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in self.allowed else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class SecurityHeadersMiddleware:
    """The headers Django 5.2 does not set itself — Content-Security-Policy, Permissions-Policy
    and Cross-Origin-Resource-Policy (settings.py says why each) — on every response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.headers = {
            "Content-Security-Policy": settings.CONTENT_SECURITY_POLICY,
            "Permissions-Policy": settings.PERMISSIONS_POLICY,
            "Cross-Origin-Resource-Policy": settings.CROSS_ORIGIN_RESOURCE_POLICY,
        }

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        for name, value in self.headers.items():
            response.headers.setdefault(name, value)
        return response


NUL = "\x00"


def holds_nul(values: Iterable[Any]) -> bool:
    """Whether any of the strings (or nested lists and dicts of them, as in JSON) holds NUL."""
    for value in values:
        if isinstance(value, str):
            if NUL in value:
                return True
        elif isinstance(value, dict):
            if holds_nul(value.keys()) or holds_nul(value.values()):
                return True
        elif isinstance(value, list) and holds_nul(value):
            return True
    return False


def _form_values(data: Any) -> Iterable[str]:
    for key, values in data.lists():
        yield key
        yield from values


def _request_holds_nul(request: HttpRequest, view: Any) -> bool:
    if NUL in request.path or holds_nul(_form_values(request.GET)):
        return True
    if (
        request.content_type == "application/x-www-form-urlencoded"
        or hasattr(request, "_post")
        or not getattr(view, "csrf_exempt", False)
    ):
        # Cheap to read, read already, or read anyway by the CSRF check of the views it
        # guards. The multipart body of a view exempt from it is left to that view: the API
        # parses its own (a JSON endpoint could not read a body sent as multipart once it is
        # read here), Open311 checks its form itself.
        return holds_nul(_form_values(request.POST))
    if request.content_type == "application/json" and b"\\u0000" in request.body:
        # The only way JSON text can hold NUL; parsed to tell it from an escaped backslash.
        try:
            return holds_nul([json.loads(request.body)])
        except ValueError:
            return False  # not JSON: the API answers that itself
    return False


class RefuseUnusableRequestsMiddleware:
    """A request Django cannot read (too many fields, a multipart body without a usable
    boundary, a body over the size limit) or that holds a NUL character in its path, query
    string or form or JSON body is a 400, before any view runs, in the shape of the interface
    it was sent to (register_refusal).

    PostgreSQL can neither store nor compare text holding NUL (psycopg raises DataError: a 500
    wherever such a value reaches a query), and no form or client has a reason to send it.
    After CsrfViewMiddleware, which reads the forms of the views it guards."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        refused: WanggeError
        try:
            if not _request_holds_nul(request, view):
                return None
            refused = NulCharacter()
        except (SuspiciousOperation, MultiPartParserError) as exc:
            refused = MalformedRequest()
            log.warning("refused %s %s: %s", request.method, request.path, exc)
        else:
            log.warning("refused a NUL character in %s %s", request.method, request.path)
        match = request.resolver_match
        for namespace in match.namespaces if match else []:
            if namespace in _refusals:
                return _refusals[namespace](request, refused)
        return bad_request(request, BadRequest(refused.message))
