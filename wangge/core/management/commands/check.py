from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from wangge.core import health
from wangge.core.management.base import WanggeCommand


class Command(WanggeCommand):
    help = (
        "After an upgrade or a restore: migrations applied, keys present and decrypting, the "
        "audit chain verifying, a worker alive, disk space, static files present."
    )
    # Django's system checks are `check` too: this one replaces it under `wangge`, and runs
    # them first (a broken configuration is the first thing to know about).
    requires_system_checks = "__all__"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        ok, probes = health.operator_check()
        if options["json"]:
            self.print_json({"ok": ok, "checks": [p.as_dict() for p in probes]})
        else:
            for probe in probes:
                mark = self.style.SUCCESS(_("OK  ")) if probe.ok else self.style.ERROR(_("FAIL"))
                self.stdout.write(f"[{mark}] {probe.name:<10} {probe.message}")
            summary = _("All checks passed.") if ok else _("Some checks failed.")
            self.stdout.write(summary)
        if not ok:
            self.fail()
