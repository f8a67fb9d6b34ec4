"""Linking a batch as a background job (the page's and the API's path): a district's list
against 300,000 people takes longer than a request should. The worker runs it as the user who
queued it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wangge.core import jobs
from wangge.core.models import Job
from wangge.core.scope import scope_for
from wangge.linkage import selectors, services

KIND = "linkage.run"


def queue_run(*, user: Any, batch_id: int) -> Job:
    """Queue the linking of a batch the user may manage (NotFound otherwise)."""
    batch = selectors.batch_get(actor=scope_for(user), batch_id=batch_id)
    return jobs.job_create(actor_user=user, kind=KIND, params={"batch": batch.pk}, total=batch.rows)


def run(job: Job, progress: Callable[[int], None]) -> dict[str, Any]:
    counts = services.batch_run(actor=scope_for(job.created_by), batch_id=job.params["batch"])
    progress(counts["rows"])
    return {k: counts[k] for k in services.RUN_KEYS} | {"batch": job.params["batch"]}


def register() -> None:
    jobs.register(KIND, run)
