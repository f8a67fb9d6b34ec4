"""`wangge dashboard …`: `briefing` writes the weekly briefing's PDF (audited like the
download). Further subcommands (`rebuild`, `refresh`) go in `add_arguments` and `handle`
beside it: one subparser and one `_name` method each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from wangge.core.management.base import WanggeCommand
from wangge.core.models import User
from wangge.core.scope import Scope, scope_for
from wangge.dashboard import briefing, services


class Command(WanggeCommand):
    help = "Dashboard: `briefing` writes the weekly briefing (每周通报) as a PDF."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
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
        handlers = {"briefing": self._briefing}
        handlers[options["action"]](**options)

    def _actor(self, username: str) -> Scope:
        if not username:
            return self.system_actor()
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
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
