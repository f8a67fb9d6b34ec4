"""What the fuzz tests share: the real WSGI app inside the test's transaction."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def wsgi_app(db: Any) -> Iterator[Any]:
    """The real WSGI app, kept inside the test's transaction: Django closes "old" database
    connections at the start and end of every request, which would end the transaction that
    pytest-django rolls back (its test Client unhooks the same signal handlers)."""
    from django.core import signals
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
