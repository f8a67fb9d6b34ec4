"""`wangge dashboard rebuild | refresh | briefing`: the command centre, for operators.

`rebuild [--since DAY] [--until DAY]` rebuilds the daily facts from the events (all of them by
default: after a restore, an upgrade or a change of the calendar); `refresh` does what the
worker does every cycle (the days changed since the watermark, and the per-grid figures);
`briefing --week DAY --out FILE.pdf [--as USER]` writes the weekly briefing's PDF (audited like
the download)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from wangge.core import dates
from wangge.core.errors import NotFound
from wangge.core.management.base import WanggeCommand
from wangge.core.scope import Scope, scope_for
from wangge.core.selectors import user_by_username
from wangge.dashboard import briefing, facts, services


class Command(WanggeCommand):
    help = "The command centre's facts: rebuild from the events, or refresh as the worker does."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("rebuild", help="rebuild the daily facts from the events")
        p.add_argument("--since", help="first day (YYYY-MM-DD; default: the first event)")
        p.add_argument("--until", help="last day, inclusive (YYYY-MM-DD; default: today)")
        p.add_argument("--json", action="store_true")
        p = sub.add_parser("refresh", help="the worker's cycle: changed days and the figures")
        p.add_argument("--json", action="store_true")
        p = sub.add_parser("briefing", help="write the weekly briefing of a week as a PDF")
        p.add_argument("--week", default="", help="any day of the week (default: last week)")
        p.add_argument("--out", required=True, help="the PDF file to write")
        p.add_argument(
            "--as",
            dest="username",
            default="",
            help="the user whose scope the briefing shows (default: the whole system)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "briefing":
            self._briefing(**options)
            return
        started = time.monotonic()
        result: dict[str, Any]
        if options["action"] == "rebuild":
            since = dates.parse_day(options.get("since") or "", field="--since")
            until = dates.parse_day(options.get("until") or "", field="--until")
            if since and until and until < since:
                raise CommandError(_("--until comes before --since."))
            result = dict(facts.facts_rebuild(since, until))
            result["figures"] = facts.figures_refresh()
        else:
            result = dict(facts.facts_refresh())
            result["figures"] = facts.figures_refresh()
        result["seconds"] = round(time.monotonic() - started, 2)
        if options["json"]:
            self.print_json(result)
            return
        self.stdout.write(
            _("%(days)d days of facts rebuilt (%(rows)d rows), %(figures)d grid figures taken.")
            % result
        )

    def _actor(self, username: str) -> Scope:
        if not username:
            return self.system_actor()
        try:
            user = user_by_username(actor=self.system_actor(), username=username)
        except NotFound:
            raise CommandError(_("No active user %(name)s.") % {"name": username}) from None
        if not user.is_active:
            raise CommandError(_("No active user %(name)s.") % {"name": username})
        return scope_for(user)

    def _briefing(self, *, week: str, out: str, username: str, **_options: Any) -> None:
        actor = self._actor(username)
        monday = briefing.parse_week(week)
        pdf = services.briefing_export(actor=actor, week=monday)
        Path(out).write_bytes(pdf)
        self.stdout.write(
            _("Weekly briefing of the week from %(week)s written to %(out)s.")
            % {"week": monday.isoformat(), "out": out}
        )
