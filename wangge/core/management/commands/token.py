from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from wangge.core.errors import NotFound
from wangge.core.management.base import WanggeCommand
from wangge.core.selectors import token_list, user_by_username
from wangge.core.services import token_create, token_revoke


class Command(WanggeCommand):
    help = "API tokens: create USERNAME, list [USERNAME], revoke PREFIX."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="print a new bearer token for USERNAME (shown once)")
        create.add_argument("username")
        create.add_argument("--name", default="cli")
        lst = sub.add_parser("list")
        lst.add_argument("username", nargs="?")
        revoke = sub.add_parser("revoke")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            try:
                user = user_by_username(actor=self.system_actor(), username=options["username"])
            except NotFound:
                user = None
            if user is None or not user.is_active:
                raise CommandError(_("No active user %(u)s") % {"u": options["username"]})
            _token, plain = token_create(actor=self.system_actor(), user=user, name=options["name"])
            self.stdout.write(plain)
        elif action == "list":
            tokens = token_list(actor=self.system_actor(), username=options["username"] or "")
            for t in tokens:
                state = _("revoked") if t.revoked_at else _("active")
                self.stdout.write(
                    f"{t.prefix}…\t{t.user.username}\t{t.name}\t{state}\t{t.created_at:%Y-%m-%d}"
                )
        else:
            token_revoke(actor=self.system_actor(), prefix=options["prefix"])
            self.stdout.write(_("Token %(p)s revoked.") % {"p": options["prefix"]})
