"""The demo district's events (事): six months of history, and a few live cases.

The history (about 6,000 events by default) runs through the workflow's own code in memory:
each event is opened as intake opens it (`intake.opening`), each step is checked with
`workflow.refusal` and applied with `workflow.step` (the functions `workflow.transition`
applies to stored events), the deadline scan's marks come from `scan.overdue_step`; then the
events and their logs are written in bulk, because thousands of audited transitions would make
the demo (built in every demo test session) slow. Deadlines use the working calendar through
`WorkClock`, a table of office minutes equal to `Calendar.add` (checked by the tests) but
thousands of times faster. The one audit entry is the summary `demo.events`.

The live cases go through the real intake, workflow and deadline scan, reported a few working
days ago, so that every demo role opens an inbox with one overdue case waiting for it.

The modules, in the order they build on each other:

- `reference`: constants and reference data (channel and category mixes, titles, reasons, notes);
- `clock`: `WorkClock`, working time as a precomputed table of office minutes;
- `cases`: categories and grids loaded from the database, and `Case`, an event in memory;
- `lifecycle`: a case's life through the workflow, step by step;
- `history`: `History`, generating the six months, then writing them in bulk;
- `live`: the live cases, through the real services.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.db import transaction
from django.utils import timezone

from wangge.core.audit import audit_record
from wangge.core.scope import Scope
from wangge.demo.events.clock import WorkClock
from wangge.demo.events.history import History
from wangge.demo.events.live import live_cases
from wangge.demo.events.reference import DAYS, SEED
from wangge.events.scan import scan

__all__ = ["DAYS", "History", "WorkClock", "build"]


def build(
    actor: Scope,
    *,
    events: int = 6000,
    seed: int = SEED,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Six months of events before `now` in bulk, then the live cases; one audit entry."""
    started = time.perf_counter()
    now = now or timezone.now()
    history = History(count=events, seed=seed, now=now)
    history.generate()
    history.finish()
    with transaction.atomic():
        history.write()
    written = time.perf_counter()
    live, scanned = live_cases(history, now)
    for key, n in scan(now=now).items():  # what the worker does next: nothing left to mark
        scanned[key] = scanned.get(key, 0) + n
    summary = history.counts() | {
        "now": now.isoformat(),
        "live": live,
        "scan": scanned,
        "seconds": round(time.perf_counter() - started, 2),
        "seconds_history": round(written - started, 2),
    }
    audit_record(actor=actor, action="demo.events", details=summary)
    return summary
