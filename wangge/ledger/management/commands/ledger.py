from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from wangge.core.management.base import WanggeCommand
from wangge.core.tabular import read_table_path
from wangge.ledger import importers, services
from wangge.ledger.services.exports import FULL_EXPORT_BATCH

KINDS = sorted(importers.IMPORTERS)


class Command(WanggeCommand):
    help = (
        "The ledger: import templates and bulk imports of people, organisations, addresses, things."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        tpl = sub.add_parser("template", help="write the import template")
        tpl.add_argument("kind", choices=KINDS)
        tpl.add_argument("--out", required=True)
        imp = sub.add_parser("import", help="import a CSV or XLSX file")
        imp.add_argument("kind", choices=KINDS)
        imp.add_argument("file")
        imp.add_argument("--dry-run", action="store_true")
        imp.add_argument("--json", action="store_true")
        imp.add_argument("--errors", metavar="OUT.xlsx", help="write rejected rows with reasons")
        imp.add_argument("--on-duplicate", choices=["skip", "update"], default="skip")
        imp.add_argument(
            "--accept-failed-checks",
            metavar="REASON",
            default="",
            help="supervised override: keep ID numbers/credit codes that fail their check "
            "digit, flagged, with this reason in the audit log",
        )
        imp.add_argument("--batch", type=int, default=importers.BATCH)
        exp = sub.add_parser(
            "export",
            help="write the full people ledger (full ID numbers and phones) for an operator; "
            "audited with the reason",
        )
        exp.add_argument("kind", choices=["people"])
        exp.add_argument("--out", required=True, metavar="FILE.csv")
        exp.add_argument("--reason", default="", help="why the export is needed (required)")
        exp.add_argument("--batch", type=int, default=FULL_EXPORT_BATCH)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "export":
            self._export(options)
            return
        if options["action"] == "template":
            Path(options["out"]).write_bytes(importers.template(options["kind"]))
            self.stderr.write(_("Template written to %(path)s") % {"path": options["out"]})
            return
        path = Path(options["file"])
        if not path.exists():
            raise CommandError(
                _("Cannot read %(path)s: %(error)s") % {"path": path, "error": "not found"}
            )
        table = read_table_path(path)
        interactive = sys.stderr.isatty()

        def progress(rows: int) -> None:
            if interactive:
                self.stderr.write(f"\r{_('Rows read')}: {rows:,}", ending="")

        result = importers.ledger_import(
            actor=self.system_actor(),
            kind=options["kind"],
            table=table,
            dry_run=options["dry_run"],
            on_duplicate=options["on_duplicate"],
            override_reason=options["accept_failed_checks"],
            progress=progress,
            batch_size=options["batch"],
        )
        if interactive:
            self.stderr.write("")
        if options["errors"] and result.rejected_rows:
            Path(options["errors"]).write_bytes(result.error_file())
        if options["json"]:
            self.print_json(result.as_dict())
        else:
            for e in result.errors[:200]:
                self.stdout.write(
                    self.style.ERROR(
                        _("Row %(row)d, %(column)s: %(message)s")
                        % {"row": e.row, "column": e.column or "-", "message": e.message}
                    )
                )
            self.stdout.write(
                _(
                    "%(total)d rows: %(inserted)d inserted, %(updated)d updated, "
                    "%(skipped)d unchanged, %(rejected)d rejected."
                )
                % result.as_dict()
            )
            if result.dry_run:
                self.stdout.write(_("Nothing was stored."))
        if result.rejected:
            self.fail()

    def _export(self, options: dict[str, Any]) -> None:
        if not options["reason"].strip():
            raise CommandError(
                _("Say why the full data is exported: --reason TEXT (it is kept in the audit log).")
            )
        # The checks and the audit entry come first: a refused export writes no file.
        export = services.people_export_full(
            actor=self.system_actor(), reason=options["reason"], batch=options["batch"]
        )
        path = Path(options["out"])
        try:
            # Full ID numbers: readable by the operator only.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        except OSError as exc:
            raise CommandError(
                _("Cannot write %(path)s: %(error)s") % {"path": path, "error": exc.strerror}
            ) from None
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            for chunk in export.lines:
                out.write(chunk)
        self.stderr.write(
            _("%(rows)d people written to %(path)s.") % {"rows": export.rows, "path": path}
        )
