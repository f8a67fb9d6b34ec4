from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from wangge.core.management.base import WanggeCommand
from wangge.events.scan import scan


class Command(WanggeCommand):
    help = "Events: `scan` marks overdue events and escalates them (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("scan", help="mark overdue events and escalate them one tier, once")
        p.add_argument("--now", help="ISO-8601 time to scan at (default: now)")
        p.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        if options.get("now"):
            parsed = parse_datetime(options["now"])
            if parsed is None:
                raise CommandError(
                    _("--now is not an ISO-8601 date-time: %(v)s") % {"v": options["now"]}
                )
            now = timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed
        result = scan(now)  # runs as the system: the scan is not a user's action
        if options["json"]:
            self.print_json(result)
        else:
            self.stdout.write(
                _("%(overdue_marked)d events marked overdue, %(escalated)d escalated.") % result
            )
