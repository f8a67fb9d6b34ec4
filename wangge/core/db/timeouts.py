"""The statement timeout (WANGGE_DB_STATEMENT_TIMEOUT_MS, PostgreSQL) cancels a runaway query of
a request; the few jobs whose statements legitimately run long lift it for their own
transaction only."""

from __future__ import annotations

from typing import Any

from django.db import connection


def lift_statement_timeout(cursor: Any) -> None:
    """No statement timeout for the rest of the current transaction (`SET LOCAL`: the session,
    pooled or not, gets its own back at COMMIT or ROLLBACK). Call it inside `atomic()`."""
    if connection.vendor == "postgresql":
        cursor.execute("SELECT set_config('statement_timeout', '0', true)")


def lift_for_migrations(using: str = "default", **_kwargs: Any) -> None:
    """`pre_migrate`: a migration over a city's events (an index over 10M rows) takes minutes;
    `wangge migrate` is an operator's command, not a request, so its session has no timeout."""
    from django.db import connections

    target = connections[using]
    if target.vendor == "postgresql":
        with target.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")
