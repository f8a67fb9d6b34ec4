"""Metrics in the Prometheus text format (/metrics), with prometheus_client.

Requests are counted by the route's *name* (`ledger:person_detail`), never its path or query
(which can hold an ID number), with their status and a latency histogram. `wangge serve` runs
several gunicorn worker processes, so the request metrics live in prometheus_client's
multiprocess files (`PROMETHEUS_MULTIPROC_DIR`, set by the settings to `$WANGGE_DATA_DIR/metrics`,
emptied when the server starts) and a scrape adds up every process's. What the database knows
(the job queue by state, the worker's heartbeat, the periodic tasks' last durations — the
deadline scan's among them) is read at scrape time.

Who may scrape: with `WANGGE_METRICS_TOKEN` set, a request carrying `Authorization: Bearer
<token>`; without it, only a request from this machine (a loopback address) that did not come
through a proxy (no `X-Forwarded-For`): behind nginx on the same host every request comes from
127.0.0.1, and the forwarded header is what tells them apart.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
# Our own registry for the request metrics: the default one would also collect the process and
# platform collectors, which multiprocess mode cannot add up.
_REQUESTS_REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "wangge_http_requests",
    "HTTP requests answered, by route name, method and status.",
    ["route", "method", "status"],
    registry=_REQUESTS_REGISTRY,
)
LATENCY = Histogram(
    "wangge_http_request_duration_seconds",
    "Time to answer an HTTP request, by route name.",
    ["route"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=_REQUESTS_REGISTRY,
)


def method_label(method: str | None) -> str:
    """The method as a label: one of the usual ones or OTHER (a client chooses it freely)."""
    return method if method in _METHODS else "OTHER"


def observe_request(*, route: str, method: str, status: int, seconds: float) -> None:
    REQUESTS.labels(route=route, method=method, status=str(status)).inc()
    LATENCY.labels(route=route).observe(seconds)


def route_name(request: Any) -> str:
    """The label a request is counted under: its URL pattern's name, `static` for static
    files, `unmatched` for a path no pattern matches (never the path: it can hold data)."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return str(match.view_name or match.url_name or "unnamed")
    if request.path.startswith(settings.STATIC_URL):
        return "static"
    return "unmatched"


class _DatabaseCollector(Collector):
    """What the database knows, read at each scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from wangge.core import health, jobs

        database = health.probe_database()
        yield GaugeMetricFamily(
            "wangge_database_up", "1 when the database answers.", value=int(database.ok)
        )
        if not database.ok:
            return
        queue = GaugeMetricFamily(
            "wangge_jobs", "Background jobs by state (the queue's depth: queued).", labels=["state"]
        )
        for state, n in jobs.job_counts_unscoped().items():
            queue.add_metric([state], n)
        yield queue
        age = health.worker_heartbeat_age()
        yield GaugeMetricFamily(
            "wangge_worker_heartbeat_age_seconds",
            "Seconds since a worker was last seen alive (NaN: never).",
            value=float("nan") if age is None else age,
        )
        duration = GaugeMetricFamily(
            "wangge_periodic_last_duration_seconds",
            "How long each periodic task's last run took (events.scan: the deadline scan).",
            labels=["task"],
        )
        finished = GaugeMetricFamily(
            "wangge_periodic_last_run_timestamp_seconds",
            "When each periodic task last ran (Unix time).",
            labels=["task"],
        )
        failed = GaugeMetricFamily(
            "wangge_periodic_last_run_failed",
            "1 when the periodic task's last run failed.",
            labels=["task"],
        )
        for task, run in _latest_runs().items():
            duration.add_metric([task], float(run["seconds"]))
            finished.add_metric([task], float(run["timestamp"]))
            failed.add_metric([task], 0 if run["ok"] else 1)
        yield duration
        yield finished
        yield failed


def _latest_runs() -> dict[str, dict[str, Any]]:
    """Each periodic task's newest run over every worker's heartbeat."""
    import datetime as dt

    from wangge.core import jobs

    latest: dict[str, dict[str, Any]] = {}
    for beat in jobs.worker_beats_unscoped():
        for task, run in beat.periodic.items():
            try:
                at = dt.datetime.fromisoformat(run["at"]).timestamp()
            except (KeyError, TypeError, ValueError):
                continue
            if task not in latest or at > latest[task]["timestamp"]:
                latest[task] = {
                    "timestamp": at,
                    "seconds": run.get("seconds", 0),
                    "ok": run.get("ok"),
                }
    return latest


def render() -> bytes:
    """The exposition: every process's request metrics, and the database's gauges."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:  # a single process (tests without the directory, a shell)
        registry.register(_REQUESTS_REGISTRY)
    registry.register(_DatabaseCollector())
    return generate_latest(registry)


def scrape_refusal(*, remote_addr: str, forwarded: bool, authorization: str) -> int | None:
    """Whether this request may read /metrics: None if it may, else the status to answer
    (401 for a missing or wrong token, 403 for a request not from this machine)."""
    token = settings.METRICS_TOKEN
    if token:
        given = authorization[7:] if authorization.startswith("Bearer ") else ""
        return None if hmac.compare_digest(given.encode(), token.encode()) else 401
    if remote_addr in {"127.0.0.1", "::1"} and not forwarded:
        return None
    return 403


def reset_multiprocess_dir() -> None:
    """Empty the multiprocess directory (when the server starts: the files of a previous run's
    processes would otherwise be added in for ever)."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.unlink(os.path.join(directory, name))


def worker_exited(pid: int) -> None:
    """gunicorn's `child_exit` hook: a dead worker's live gauges go (its counts stay)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
