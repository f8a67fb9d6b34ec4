from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core.errors import NotFound
from wangge.core.management.base import WanggeCommand
from wangge.events import selectors, services


class Command(WanggeCommand):
    help = "Open311 API keys: keys create NAME (shown once), keys list, keys revoke NAME."

    def add_arguments(self, parser: CommandParser) -> None:
        groups = parser.add_subparsers(dest="group", required=True)
        keys = groups.add_parser("keys", help="API keys of Open311 clients")
        sub = keys.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="print a new API key for client NAME (shown once)")
        create.add_argument("name")
        lst = sub.add_parser("list", help="clients: name, key prefix, created, revoked")
        lst.add_argument("--json", action="store_true", help="print the list as JSON")
        revoke = sub.add_parser("revoke", help="revoke the key of client NAME")
        revoke.add_argument("name")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            client, plain = services.open311_key_create(
                actor=self.system_actor(), name=options["name"]
            )
            self.stdout.write(plain)
            self.stdout.write(
                _("API key of Open311 client %(name)s. It is shown once: store it now.")
                % {"name": client.name}
            )
        elif action == "list":
            self._list(json_output=options["json"])
        else:
            try:
                client = services.open311_key_revoke(
                    actor=self.system_actor(), name=options["name"]
                )
            except NotFound:
                raise CommandError(
                    _("No Open311 client %(name)s with an active key.") % {"name": options["name"]}
                ) from None
            self.stdout.write(_("Key of Open311 client %(name)s revoked.") % {"name": client.name})

    def _list(self, *, json_output: bool) -> None:
        clients = selectors.open311_clients(actor=self.system_actor())
        if json_output:
            self.print_json(
                [
                    {
                        "name": c.name,
                        "prefix": c.prefix,
                        "created_at": c.created_at.isoformat(),
                        "revoked_at": c.revoked_at.isoformat() if c.revoked_at else None,
                    }
                    for c in clients
                ]
            )
            return
        if not clients:
            self.stdout.write(_("No Open311 clients."))
            return
        self.stdout.write("\t".join([_("name"), _("prefix"), _("created"), _("revoked")]))
        for c in clients:
            created = f"{timezone.localtime(c.created_at):%Y-%m-%d %H:%M}"
            revoked = f"{timezone.localtime(c.revoked_at):%Y-%m-%d %H:%M}" if c.revoked_at else "-"
            self.stdout.write(f"{c.name}\t{c.prefix}…\t{created}\t{revoked}")
