from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.core.management.base import CommandParser
from django.db import close_old_connections, connection
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core import jobs
from wangge.core.management.base import WanggeCommand


class Command(WanggeCommand):
    help = (
        "Run background jobs (imports …) claimed from the database and periodic work (the "
        "events deadline scan, audit checkpoints); safe to run twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once",
            action="store_true",
            help="run the periodic work and what is queued, then exit",
        )
        parser.add_argument("--sleep", type=float, default=1.0, help="seconds between polls")
        parser.add_argument(
            "--reclaim-after", type=int, default=30, help="minutes before a silent job is retried"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name = jobs.worker_name()
        reclaim = timedelta(minutes=options["reclaim_after"])
        self.stdout.write(_("Worker %(name)s started.") % {"name": name})
        last_run: dict[str, float] = {}
        started_at, last_beat = timezone.now(), 0.0
        while True:
            if not connection.in_atomic_block:
                # Drop connections the database closed while we slept (not inside a caller's
                # transaction, e.g. a test's: closing that would lose it).
                close_old_connections()
            # Periodic work (deadline scan, audit checkpoint) when due; with --once, once (cron).
            runs = jobs.run_periodic(last_run, time.monotonic())
            # The heartbeat (/healthz, /metrics, `wangge check`): after periodic work, and at
            # most every BEAT_SECONDS while idle.
            if runs or time.monotonic() - last_beat >= jobs.BEAT_SECONDS:
                jobs.worker_beat(name=name, started_at=started_at, runs=runs)
                last_beat = time.monotonic()
            job = jobs.claim(name=name, reclaim_after=reclaim)
            if job is None:
                if options["once"]:
                    return
                time.sleep(options["sleep"])
                continue
            done = jobs.run(job)
            self.stdout.write(f"job {done.pk} {done.kind}: {done.status}")
