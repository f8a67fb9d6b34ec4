from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from wangge.core.management.base import WanggeCommand
from wangge.core.models import ApiToken, User
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
            user = User.objects.filter(username=options["username"], is_active=True).first()
            if user is None:
                raise CommandError(_("No active user %(u)s") % {"u": options["username"]})
            _token, plain = token_create(actor=self.system_actor(), user=user, name=options["name"])
            self.stdout.write(plain)
        elif action == "list":
            qs = ApiToken.objects.select_related("user").order_by("created_at")
            if options["username"]:
                qs = qs.filter(user__username=options["username"])
            for t in qs:
                state = _("revoked") if t.revoked_at else _("active")
                self.stdout.write(
                    f"{t.prefix}…\t{t.user.username}\t{t.name}\t{state}\t{t.created_at:%Y-%m-%d}"
                )
        else:
            token_revoke(actor=self.system_actor(), prefix=options["prefix"])
            self.stdout.write(_("Token %(p)s revoked.") % {"p": options["prefix"]})
