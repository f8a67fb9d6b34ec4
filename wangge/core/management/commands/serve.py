from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandParser
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils.translation import gettext as _
from gunicorn.app.base import BaseApplication

from wangge.core import metrics
from wangge.core.management.base import WanggeCommand
from wangge.core.staticcheck import static_problem


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict[str, Any]):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from wangge.wsgi import application

        return application


class Command(WanggeCommand):
    help = "Serve wangge with gunicorn (a production WSGI server) and WhiteNoise static files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=os.environ.get("WANGGE_BIND", "127.0.0.1:8000"))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("WANGGE_WORKERS", "3"))
        )
        parser.add_argument(
            "--threads", type=int, default=int(os.environ.get("WANGGE_THREADS", "4"))
        )
        parser.add_argument("--no-collectstatic", action="store_true")
        parser.add_argument(
            "--with-worker",
            action="store_true",
            help="also run `wangge worker` (background jobs) beside the server",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        problem = static_problem(collected=options["no_collectstatic"])
        if problem:
            self.stderr.write(self.style.ERROR(problem))
            self.fail()
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            self.stderr.write(
                self.style.ERROR(_("The database is not migrated: run `wangge migrate` first."))
            )
            self.fail()
        if not options["no_collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)
        connection.close()
        # Each gunicorn worker opens its own pool after the fork, none inherits this one's
        # (only PostgreSQL's connection has a pool).
        close_pool = getattr(connection, "close_pool", None)
        if connection.vendor == "postgresql" and close_pool is not None:
            close_pool()
        metrics.reset_multiprocess_dir()  # before any worker process counts a request
        self.stdout.write(_("Serving on http://%(bind)s/") % {"bind": options["bind"]})
        worker = None
        if options["with_worker"]:
            import subprocess
            import sys

            worker = subprocess.Popen([sys.argv[0], "worker"])  # noqa: S603 - our own command
        try:
            self._run(options)
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=10)

    def _run(self, options: dict[str, Any]) -> None:
        _Gunicorn(
            {
                "bind": options["bind"],
                "workers": options["workers"],
                "threads": options["threads"],
                "worker_class": "gthread",
                # No access log: its request lines hold query strings (an ID number searched
                # for); wangge.request logs each request by route name instead.
                "accesslog": None,
                "timeout": 60,
                "graceful_timeout": 10,
                "child_exit": _child_exit,
                **_json_logs(),
            }
        ).run()


def _child_exit(server: Any, worker: Any) -> None:
    metrics.worker_exited(worker.pid)


def _json_logs() -> dict[str, Any]:
    """gunicorn's own messages (start, worker restarts) as JSON too, under WANGGE_LOG_FORMAT."""
    if settings.LOG_FORMAT != "json":
        return {}
    return {
        "logconfig_dict": {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"json": {"()": "wangge.core.logs.JsonFormatter"}},
            "handlers": {
                "console": {
                    "class": "logging.StreamHandler",
                    "formatter": "json",
                    "stream": "ext://sys.stderr",
                }
            },
            "loggers": {"gunicorn.error": {"handlers": ["console"], "level": "INFO"}},
        }
    }
