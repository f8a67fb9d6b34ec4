"""Per-request context (client address, user) that services read without adapters passing it."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    client_ip: str = ""
    path: str = ""


_EMPTY = RequestContext()
current: ContextVar[RequestContext] = ContextVar("wangge_request", default=_EMPTY)
