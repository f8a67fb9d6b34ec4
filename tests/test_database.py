"""The production database settings: psycopg's pool, the statement timeout, the read replica
for the dashboard. How the settings are read is tested on every engine; that a pooled
connection serves queries and that a statement over the timeout is cancelled, on PostgreSQL
(WANGGE_TEST_DATABASE_URL). The replica is Django's test mirror of the primary: a connection
of its own to the same database (PostgreSQL: SQLite has no replicas, and its in-memory test
database takes one write transaction at a time, which a TestCase opens on every alias)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import OperationalError, connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from wangge.core.db.router import ReplicaRouter
from wangge.core.db.timeouts import lift_statement_timeout
from wangge.core.models import User
from wangge.core.scope import scope_for
from wangge.dashboard import facts, selectors
from wangge.dashboard.models import CUBES, EventFact, FactState, GridFigure
from wangge.events.models import Event
from wangge.settings import _database

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs WANGGE_TEST_DATABASE_URL (PostgreSQL)"
)

# --- the settings --------------------------------------------------------------------------


def test_pool_and_timeout_options_on_postgresql() -> None:
    config = _database(
        "postgres://w:pw@db.local:5433/wangge", pool=(2, 8), statement_timeout_ms=1500
    )
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 8, "timeout": 10}
    assert config["CONN_MAX_AGE"] == 0  # Django refuses persistent connections beside a pool
    assert config["OPTIONS"]["options"] == "-c jit=off -c statement_timeout=1500"


def test_no_pool_no_timeout_by_request() -> None:
    config = _database("postgres://w@db.local/wangge", pool=None, statement_timeout_ms=0)
    assert "pool" not in config["OPTIONS"]
    assert config["OPTIONS"]["options"] == "-c jit=off"  # request queries are not JIT-compiled
    assert config["CONN_MAX_AGE"] == 60


def test_sqlite_ignores_the_postgresql_options() -> None:
    config = _database("sqlite:///tmp/x.sqlite3", pool=(2, 8), statement_timeout_ms=1500)
    assert "pool" not in config["OPTIONS"] and "options" not in config["OPTIONS"]


def _settings(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    code = (
        "import json, wangge.settings as s; d = s.DATABASES; print(json.dumps({"
        "'aliases': sorted(d), 'read': s.DASHBOARD_READ_DATABASE,"
        "'options': {a: {k: v for k, v in c['OPTIONS'].items() if k in ('pool', 'options')}"
        " for a, c in d.items()}}))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env={"PATH": "/usr/bin:/bin", "WANGGE_DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_environment_turns_pool_timeout_and_replica_on(tmp_path: Path) -> None:
    plain = _settings({}, tmp_path)
    assert json.loads(plain.stdout) == {
        "aliases": ["default"],
        "read": "default",
        "options": {"default": {}},
    }
    done = _settings(
        {
            "WANGGE_DATABASE_URL": "postgres://w@primary/wangge",
            "WANGGE_REPLICA_DATABASE_URL": "postgres://w@replica/wangge",
            "WANGGE_DB_POOL_MAX": "12",
            "WANGGE_DB_STATEMENT_TIMEOUT_MS": "5000",
        },
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["aliases"] == ["default", "replica"] and got["read"] == "replica"
    for alias in ("default", "replica"):
        assert got["options"][alias] == {
            "options": "-c jit=off -c statement_timeout=5000",
            "pool": {"min_size": 2, "max_size": 12, "timeout": 10},
        }


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"WANGGE_DB_POOL_MIN": "9", "WANGGE_DB_POOL_MAX": "4"}, "WANGGE_DB_POOL_MIN"),
        ({"WANGGE_DB_POOL_MAX": "many"}, "WANGGE_DB_POOL_MAX"),
        ({"WANGGE_DB_STATEMENT_TIMEOUT_MS": "-1"}, "WANGGE_DB_STATEMENT_TIMEOUT_MS"),
        ({"WANGGE_REPLICA_DATABASE_URL": "sqlite:///x.sqlite3"}, "WANGGE_REPLICA_DATABASE_URL"),
    ],
)
def test_bad_database_settings_fail_loudly(env: dict[str, str], named: str, tmp_path: Path) -> None:
    done = _settings(env, tmp_path)
    assert done.returncode != 0
    assert named in done.stderr


# --- PostgreSQL: the pool and the timeout at work ---------------------------------------------


def _wrapper(alias: str, config: dict[str, Any]) -> Any:
    """A connection of our own to the test database, built from `_database`'s output."""
    filled = connections.configure_settings({"default": config})["default"]
    return type(connections["default"])(filled, alias=alias)


def _config(**kwargs: Any) -> dict[str, Any]:
    s = connection.settings_dict
    port = f":{s['PORT']}" if s["PORT"] else ""
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "") + "@" if s["USER"] else ""
    return _database(f"postgres://{auth}{s['HOST']}{port}/{s['NAME']}", **kwargs)


@postgres_only
@pytest.mark.django_db
def test_a_pooled_connection_serves_queries_and_is_reused() -> None:
    pooled = _wrapper("pool-test", _config(pool=(1, 1), statement_timeout_ms=30_000))
    try:
        assert pooled.pool is not None
        with pooled.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM core_user")
            assert cursor.fetchone()[0] == User.objects.count() > 0
            cursor.execute("SELECT pg_backend_pid()")
            first = cursor.fetchone()[0]
        pooled.close()  # back to the pool, not closed
        assert pooled.pool.get_stats()["pool_available"] >= 1
        with pooled.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid(), current_setting('statement_timeout')")
            assert cursor.fetchone() == (first, "30s")
        pooled.close()
    finally:
        pooled.close_pool()


@postgres_only
@pytest.mark.django_db
def test_a_statement_over_the_timeout_is_cancelled_and_a_long_job_may_lift_it() -> None:
    timed = _wrapper("timeout-test", _config(statement_timeout_ms=200))
    try:
        with timed.cursor() as cursor:
            with pytest.raises(OperationalError, match="statement timeout") as caught:
                cursor.execute("SELECT pg_sleep(2)")
            assert isinstance(caught.value.__cause__, psycopg.errors.QueryCanceled)
            cursor.execute("SELECT 1")  # the session survives the cancelled statement
            assert cursor.fetchone() == (1,)
        # A long job lifts it for its own transaction only.
        timed.set_autocommit(False)
        with timed.cursor() as cursor:
            lift_statement_timeout(cursor)
            cursor.execute("SELECT pg_sleep(0.4)")
        timed.commit()
        timed.set_autocommit(True)
        with timed.cursor() as cursor, pytest.raises(OperationalError, match="statement timeout"):
            cursor.execute("SELECT pg_sleep(2)")
    finally:
        timed.close()


# --- the replica router ------------------------------------------------------------------------


def test_router_sends_the_dashboards_reads_to_the_configured_alias(settings: Any) -> None:
    router = ReplicaRouter()
    settings.DASHBOARD_READ_DATABASE = "replica"
    for model in (EventFact, GridFigure, *(cube for cube, *_ in CUBES.values())):
        assert router.db_for_read(model) == "replica"
        assert router.db_for_write(model) == "default"
    # The rebuild's watermark and everything outside the dashboard stay on the primary.
    assert router.db_for_read(FactState) == "default"
    assert router.db_for_read(Event) == "default"
    assert router.db_for_read(User) == "default"
    assert router.allow_migrate("replica", "dashboard") is False
    assert router.allow_migrate("default", "dashboard") is True
    settings.DASHBOARD_READ_DATABASE = "default"
    assert router.db_for_read(EventFact) == "default"


@pytest.fixture(scope="module")
def committed_facts(django_db_blocker: Any) -> Iterator[None]:
    """The world's facts, committed (the replica's connection does not see a test's own
    uncommitted transaction), and gone again after this module."""
    with django_db_blocker.unblock():
        facts.facts_rebuild()
        yield
        for model, *_rest in CUBES.values():
            model.objects.dangerously_unscoped().delete()
        FactState.objects.all().delete()
        # Or the test database cannot be dropped at the end (Django closes the pools of the
        # databases it drops, not a mirror's).
        connections["replica"].close()
        connections["replica"].close_pool()


def _period() -> tuple[dt.date, dt.date]:
    today = facts.local_day(timezone.now())
    return today - dt.timedelta(days=3000), today + dt.timedelta(days=1)


@postgres_only
@pytest.mark.django_db(databases=["default", "replica"])
def test_the_dashboard_reads_its_facts_from_the_replica(
    committed_facts: None, settings: Any, client_as: Callable[[str | None], Any]
) -> None:
    actor = scope_for(User.objects.get(username="demo-district"))
    since, until = _period()
    on_primary = selectors.summary(actor=actor, since=since, until=until)
    assert on_primary["period"]["reported"] > 0

    settings.DASHBOARD_READ_DATABASE = "replica"
    assert EventFact.objects.dangerously_unscoped().db == "replica"
    with (
        CaptureQueriesContext(connections["replica"]) as replica,
        CaptureQueriesContext(connections["default"]) as primary,
    ):
        on_replica = selectors.summary(actor=actor, since=since, until=until)
        page = client_as("demo-district").get("/dashboard/")
    assert on_replica == on_primary
    assert page.status_code == 200
    assert any("dashboard_eventfact" in q["sql"] for q in replica.captured_queries)
    assert not any("dashboard_eventfact" in q["sql"] for q in primary.captured_queries)
    # The live numbers (open, overdue) are the primary's.
    assert any("events_event" in q["sql"] for q in primary.captured_queries)


@postgres_only
@pytest.mark.django_db
def test_sessions_run_without_jit() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
