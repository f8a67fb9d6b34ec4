"""Background jobs without a broker: rows in `core_job`, claimed by `wangge worker`.

Modules register a handler per kind in their AppConfig.ready(); a handler gets the job and a
`progress(n)` callback and returns a JSON-able result. Handlers run as the user who queued the
job (their scope), never as the system. Only that user sees the job (`job_access`).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core.audit import audit_record
from wangge.core.errors import NotFound, WanggeError
from wangge.core.models import Job, JobStatus, WorkerBeat

log = logging.getLogger(__name__)
# What a job page shows of a domain error's message (a file's error can quote a cell).
MAX_ERROR_CHARS = 500
Handler = Callable[[Job, Callable[[int], None]], dict[str, Any]]
ResultView = Callable[[dict[str, Any]], dict[str, Any]]
_handlers: dict[str, Handler] = {}
_result_views: dict[str, ResultView] = {}


def register(kind: str, handler: Handler, *, result_view: ResultView | None = None) -> None:
    """`result_view` picks what the API shows of a finished job's result (default: all of it),
    e.g. without the token of a file the pages offer."""
    _handlers[kind] = handler
    if result_view is not None:
        _result_views[kind] = result_view


# Periodic work (the events deadline scan, the audit checkpoint): run by every worker between
# jobs. Each task must be safe to run twice at once (claim its rows with conditional UPDATEs,
# lock its file), so no lease is needed.
_periodic: dict[str, tuple[int, Callable[..., Any]]] = {}


def register_periodic(name: str, every_seconds: int, fn: Callable[..., Any]) -> None:
    _periodic[name] = (every_seconds, fn)


@dataclass(frozen=True)
class PeriodicRun:
    name: str
    at: datetime
    seconds: float
    ok: bool


def run_periodic(last_run: dict[str, float], now: float) -> list[PeriodicRun]:
    """Run the periodic tasks that are due (per `last_run`, updated in place); how each went
    (its duration is what /metrics shows as the deadline scan's last duration)."""
    ran = []
    for name, (every, fn) in _periodic.items():
        if now - last_run.get(name, 0.0) < every:
            continue
        last_run[name] = now
        at, started, ok = timezone.now(), time.perf_counter(), True
        try:
            fn()
        except Exception:  # a failing task must not kill the worker
            log.exception("periodic task %s failed", name)
            ok = False
        ran.append(PeriodicRun(name, at, time.perf_counter() - started, ok))
    return ran


# The worker's heartbeat: one row per worker process (core.WorkerBeat), written at most every
# BEAT_SECONDS from its loop and after its periodic tasks; rows silent for a day are pruned.
BEAT_SECONDS = 15
_BEAT_PRUNE = timedelta(days=1)


def worker_beat(*, name: str, started_at: datetime, runs: Sequence[PeriodicRun] = ()) -> WorkerBeat:
    """Record that worker `name` is alive (and how its periodic `runs` went). Safe to call from
    two workers at once: each writes its own row."""
    now = timezone.now()
    beat = WorkerBeat.objects.filter(name=name).first()
    if beat is None:
        beat = WorkerBeat.objects.create(name=name, started_at=started_at, seen_at=now)
        WorkerBeat.objects.filter(seen_at__lt=now - _BEAT_PRUNE).delete()
    periodic = dict(beat.periodic)
    for run in runs:
        periodic[run.name] = {
            "at": run.at.isoformat(timespec="seconds"),
            "seconds": round(run.seconds, 4),
            "ok": run.ok,
        }
    beat.seen_at, beat.periodic = now, periodic
    beat.save(update_fields=["seen_at", "periodic"])
    return beat


def worker_beats_unscoped() -> list[WorkerBeat]:
    """Every worker's last beat, the freshest first (for the system: health, metrics, check)."""
    return list(WorkerBeat.objects.order_by("-seen_at"))


def worker_last_seen_unscoped() -> datetime | None:
    """When a worker was last seen alive: its newest beat, or the progress of a job it is
    running (a long import beats through its progress, not through the loop)."""
    beat = WorkerBeat.objects.order_by("-seen_at").values_list("seen_at", flat=True).first()
    running = (
        _jobs()
        .filter(status=JobStatus.RUNNING)
        .order_by("-claimed_at")
        .values_list("claimed_at", flat=True)
        .first()
    )
    seen = [t for t in (beat, running) if t is not None]
    return max(seen) if seen else None


def job_counts_unscoped() -> dict[str, int]:
    """Jobs by state, every state present (zero when none): the queue's depth for /metrics."""
    counts = dict.fromkeys(JobStatus.values, 0)
    for status, n in _jobs().values_list("status").annotate(n=Count("id")).order_by():
        counts[status] = n
    return counts


def job_create(
    *, actor_user: Any, kind: str, params: dict[str, Any], total: int | None = None
) -> Job:
    if kind not in _handlers:
        raise ValueError(f"no handler for job kind {kind!r}")
    job = Job.objects.create(kind=kind, created_by=actor_user, params=params, total=total)
    audit_record(
        actor=actor_user,
        action="job.create",
        object_type="job",
        object_id=job.pk,
        details={"kind": kind},
    )
    return job


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(*, name: str, reclaim_after: timedelta | None = None) -> Job | None:
    """Take the oldest queued job, or (with `reclaim_after`) one whose worker went silent.
    Each claim is a conditional UPDATE: of two workers racing for a job, exactly one wins."""
    now = timezone.now()
    queued = _jobs().filter(status=JobStatus.QUEUED).order_by("id")
    for job_id in queued.values_list("id", flat=True)[:5]:
        won = (
            _jobs()
            .filter(pk=job_id, status=JobStatus.QUEUED)
            .update(status=JobStatus.RUNNING, claimed_at=now, claimed_by=name)
        )
        if won:
            return _jobs().get(pk=job_id)
    if reclaim_after is not None:
        cutoff = now - reclaim_after
        stale = _jobs().filter(status=JobStatus.RUNNING, claimed_at__lt=cutoff).order_by("id")
        for job_id in stale.values_list("id", flat=True)[:5]:
            won = (
                _jobs()
                .filter(pk=job_id, status=JobStatus.RUNNING, claimed_at__lt=cutoff)
                .update(claimed_at=now, claimed_by=name)
            )
            if won:
                return _jobs().get(pk=job_id)
    return None


def run(job: Job) -> Job:
    handler = _handlers.get(job.kind)

    def progress(n: int) -> None:
        _jobs().filter(pk=job.pk).update(progress=n, claimed_at=timezone.now())

    try:
        if handler is None:
            raise ValueError(f"no handler for job kind {job.kind!r}")
        result = handler(job, progress)
    except WanggeError as exc:  # said for the user who queued the job
        log.info("job %s (%s) failed: %s", job.pk, job.kind, exc.code)
        message = exc.message
        if len(message) > MAX_ERROR_CHARS:
            message = message[: MAX_ERROR_CHARS - 1] + "…"
        _fail(job, message)
    except Exception:  # a failed job must not kill the worker
        # The trace names files and code and may quote the upload: the log gets it, the job
        # page (its creator) a plain sentence.
        log.exception("job %s (%s) failed", job.pk, job.kind)
        _fail(job, _("The job failed because of an internal error. It has been logged."))
    else:
        _jobs().filter(pk=job.pk).update(
            status=JobStatus.DONE, result=result, finished_at=timezone.now(), progress=F("progress")
        )
    job.refresh_from_db()
    return job


def _fail(job: Job, message: str) -> None:
    _jobs().filter(pk=job.pk).update(
        status=JobStatus.FAILED, error=message, finished_at=timezone.now()
    )


def job_get_for(user: Any, job_id: int) -> Job | None:
    """A job its creator may see (and nobody else: it may describe their upload)."""
    from wangge.core.roles import Perm
    from wangge.core.scope import as_scope

    return Job.objects.visible_to(as_scope(user), Perm.LEDGER_EDIT).filter(pk=job_id).first()


def _jobs() -> Any:
    """The worker's own view of the table: every job (it claims and runs them)."""
    return Job.objects.dangerously_unscoped()


def job_access(user: Any, job_id: int) -> Job:
    """The user's own job; someone else's is NotFound, as a missing one is."""
    job = job_get_for(user, job_id)
    if job is None:
        raise NotFound()
    return job


def job_result_view(job: Job) -> dict[str, Any] | None:
    """What the API shows of the job's result: None until it is done."""
    if job.status != JobStatus.DONE:
        return None
    view = _result_views.get(job.kind)
    return view(job.result) if view is not None else dict(job.result)
