from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import translation
from django.views.defaults import page_not_found

from wangge.core.context import RequestContext, current
from wangge.core.errors import NotFound


def client_ip(request: HttpRequest) -> str:
    """The client address; X-Forwarded-For is trusted only behind WANGGE_PROXY_COUNT proxies."""
    proxies = settings.AXES_IPWARE_PROXY_COUNT
    if proxies:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return str(request.META.get("REMOTE_ADDR", ""))


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
