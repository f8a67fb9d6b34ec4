from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from wangge.core.audit import audit_verify
from wangge.core.management.base import WanggeCommand
from wangge.core.selectors import audit_list


class Command(WanggeCommand):
    help = "The audit log: verify the hash chain, or show the latest entries."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="check every entry's hash and sequence")
        verify.add_argument("--json", action="store_true")
        tail = sub.add_parser("tail", help="print the latest entries")
        tail.add_argument("-n", type=int, default=20)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "verify":
            checked, problems = audit_verify()
            if options["json"]:
                self.print_json(
                    {
                        "ok": not problems,
                        "entries": checked,
                        "problems": [{"seq": p.seq, "reason": p.reason} for p in problems],
                    }
                )
            else:
                for p in problems:
                    self.stdout.write(self.style.ERROR(f"#{p.seq}: {p.reason}"))
                if problems:
                    self.stdout.write(
                        self.style.ERROR(
                            _(
                                "The audit log has been tampered with: "
                                "%(n)d problem(s) in %(total)d entries."
                            )
                            % {"n": len(problems), "total": checked}
                        )
                    )
                else:
                    self.stdout.write(
                        self.style.SUCCESS(
                            _("The audit log is intact: %(n)d entries.") % {"n": checked}
                        )
                    )
            if problems:
                self.fail()
            return
        for e in reversed(list(audit_list(actor=self.system_actor())[: options["n"]])):
            self.stdout.write(
                f"#{e.seq} {e.at:%Y-%m-%d %H:%M:%S} {e.actor_name} {e.action} "
                f"{e.object_type}:{e.object_id} {e.outcome} {e.client_ip} {e.details}"
            )
