from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from wangge.core.errors import NotFound
from wangge.core.management.base import WanggeCommand
from wangge.core.roles import Role
from wangge.core.selectors import department_by_code, user_by_username, user_list
from wangge.core.services import user_create
from wangge.regions.services import grant_region


class Command(WanggeCommand):
    help = "Users: create USERNAME, grant USERNAME ROLE REGION [--department], list."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create")
        create.add_argument("username")
        create.add_argument("--display-name", default="")
        create.add_argument("--password", help="(default: asked for at the prompt)")
        grant = sub.add_parser("grant")
        grant.add_argument("username")
        grant.add_argument("role", choices=[r.value for r in Role])
        grant.add_argument("region", help="region code: district, street, community or grid")
        grant.add_argument("--department", help="department code, e.g. chengguan")
        sub.add_parser("list")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self.system_actor()
        if options["action"] == "create":
            password = options["password"] or getpass.getpass(_("Password: "))
            user = user_create(
                actor=actor,
                username=options["username"],
                password=password,
                display_name=options["display_name"],
            )
            self.stdout.write(_("User %(u)s created.") % {"u": user.username})
        elif options["action"] == "grant":
            try:
                user = user_by_username(actor=actor, username=options["username"])
            except NotFound:
                raise CommandError(_("No user %(u)s") % {"u": options["username"]}) from None
            department = department_by_code(options["department"])
            grant_region(
                actor=actor,
                user=user,
                role=Role(options["role"]),
                region_code=options["region"],
                department=department,
            )
            self.stdout.write(_("Granted."))
        else:
            for user in user_list(actor=actor):
                grants = "; ".join(
                    f"{g.role}@{g.region_code}" + (f"/{g.department.code}" if g.department else "")
                    for g in user.grants.all()
                )
                self.stdout.write(f"{user.username}\t{user.display_name}\t{grants}")
