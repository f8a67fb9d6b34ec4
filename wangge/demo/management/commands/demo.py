from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError, CommandParser
from django.db import connection
from django.utils.translation import gettext as _

from wangge.core.audit import dangerously_discard_audit_files
from wangge.core.management.base import WanggeCommand
from wangge.core.staticcheck import static_problem
from wangge.demo import builder


class Command(WanggeCommand):
    help = "Build the demo district (江海区, 190 grids, one login per role) and serve it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--build-only", action="store_true", help="build, do not serve")
        parser.add_argument("--reset", action="store_true", help="throw the database away first")
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument(
            "--people", type=int, default=3000, help="people in the demo ledger (default 3000)"
        )
        parser.add_argument(
            "--events",
            type=int,
            default=6000,
            help="events over the last six months (default 6000; 0 for none)",
        )
        parser.add_argument(
            "--with-problems",
            action="store_true",
            help="add a few deliberate coverage problems (for trying out the checks)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        problem = None if options["build_only"] else static_problem()
        if problem:
            # Before the build, which takes a while: the server at its end would refuse anyway.
            self.stderr.write(self.style.ERROR(problem))
            self.fail()
        if options["reset"]:
            self._reset()
        call_command("migrate", interactive=False, verbosity=0)
        started = time.perf_counter()
        if builder.is_built():
            self.stdout.write(_("The demo district is already built (use --reset to rebuild)."))
        else:
            summary = builder.build(people=options["people"], events=options["events"])
            self.stdout.write(
                _(
                    "Demo district built in %(s).1f s: %(regions)s, %(layers)d department layers, "
                    "ledger %(ledger)s."
                )
                % {
                    "s": time.perf_counter() - started,
                    "regions": summary["regions"],
                    "layers": summary["layers"],
                    "ledger": summary["ledger"],
                }
            )
            if "events" in summary:
                events = summary["events"]
                self.stdout.write(
                    _(
                        "Events: %(n)d over six months (%(open)d open, %(overdue)d of them "
                        "overdue) and %(live)d live cases, in %(s).1f s."
                    )
                    % {
                        "n": events["events"],
                        "open": events["open"],
                        "overdue": events["open_overdue"],
                        "live": len(events["live"]),
                        "s": events["seconds"],
                    }
                )
        if options["with_problems"]:
            from wangge.demo import teams

            for problem in teams.add_problems(builder.ACTOR):
                self.stdout.write(_("Deliberate problem: %(p)s") % {"p": problem})
        self.stdout.write(_("Demo logins (password: %(p)s):") % {"p": builder.demo_password()})
        for user in builder.DEMO_USERS:
            self.stdout.write(f"  {user.username:<16} {user.role.label}  {user.region}")
        if not options["build_only"]:
            connection.close()
            call_command("serve", bind=options["bind"], with_worker=True)

    def _reset(self) -> None:
        db = settings.DATABASES["default"]
        connection.close()
        if db["ENGINE"].endswith("sqlite3"):
            from pathlib import Path

            path = Path(str(db["NAME"]))
            for suffix in ("", "-wal", "-shm"):
                target = path.with_name(path.name + suffix)
                if target.exists():
                    target.unlink()
        elif db["ENGINE"].endswith("postgresql"):
            if not settings.DEMO:
                raise CommandError(_("--reset on PostgreSQL only runs with WANGGE_DEMO=true."))
            with connection.cursor() as cursor:
                cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        dangerously_discard_audit_files()
        self.stdout.write(_("Database reset."))
