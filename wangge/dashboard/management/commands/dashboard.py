"""`wangge dashboard rebuild | refresh`: the command centre's facts, for operators.

`rebuild [--since DAY] [--until DAY]` rebuilds the daily facts from the events (all of them by
default: after a restore, an upgrade or a change of the calendar); `refresh` does what the
worker does every cycle (the days changed since the watermark, and the per-grid figures)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from wangge.core.management.base import WanggeCommand
from wangge.dashboard import facts


def _day(value: str | None, flag: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            _("%(flag)s is not a date (YYYY-MM-DD): %(value)s") % {"flag": flag, "value": value}
        ) from None


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

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        result: dict[str, Any]
        if options["action"] == "rebuild":
            since = _day(options.get("since"), "--since")
            until = _day(options.get("until"), "--until")
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
