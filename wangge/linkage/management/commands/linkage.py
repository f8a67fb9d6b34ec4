from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from wangge.core.management.base import WanggeCommand
from wangge.core.tabular import read_table_path
from wangge.linkage import services
from wangge.linkage.models import RecordKind


class Command(WanggeCommand):
    help = "Departments' lists: import a file, link it to the ledger, export the links, duplicates."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="store a department's file as a batch of a source")
        imp.add_argument("source", help="the source's code (created on first use)")
        imp.add_argument("file")
        imp.add_argument("--kind", choices=RecordKind.values, required=True)
        imp.add_argument("--department", default="", help="the department's code")
        imp.add_argument("--name", default="", help="the source's name (when created)")
        imp.add_argument("--district", default="", help="the district's code (when several)")
        imp.add_argument(
            "--mapping", default="", help='JSON {"field": "header"}; default: from the headers'
        )
        imp.add_argument("--care-tag", default=None, help="care group given to people listed")
        imp.add_argument("--json", action="store_true")
        run = sub.add_parser("run", help="link a batch (exact, then the probabilistic model)")
        run.add_argument("batch", type=int)
        run.add_argument("--backend", choices=["duckdb", "spark"], default="duckdb")
        run.add_argument("--json", action="store_true")
        exp = sub.add_parser("export", help="one line per source row: status, record, probability")
        exp.add_argument("batch", type=int)
        exp.add_argument("--out", required=True)
        dup = sub.add_parser("duplicates", help="find suspected duplicates in the ledger")
        dup.add_argument("--region", required=True, help="a district, street or community code")
        dup.add_argument("--kind", choices=RecordKind.values, default=RecordKind.PEOPLE)
        dup.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "_" + options["action"])(options)

    def _import(self, options: dict[str, Any]) -> None:
        actor = self.system_actor()
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(
                _("Cannot read %(path)s: %(error)s") % {"path": path, "error": _("not found")}
            )
        mapping = None
        if options["mapping"]:
            try:
                mapping = json.loads(options["mapping"])
            except json.JSONDecodeError:
                raise CommandError(_("--mapping is not JSON.")) from None
            if not isinstance(mapping, dict):
                raise CommandError(_("--mapping is not JSON."))
        services.source_save(
            actor=actor,
            code=options["source"],
            kind=options["kind"],
            name=options["name"],
            department_code=options["department"],
            region_code=options["district"],
            care_tag=options["care_tag"],
        )
        summary = services.batch_import(
            actor=actor,
            source_code=options["source"],
            table=read_table_path(path),
            filename=path.name,
            mapping=mapping,
        )
        if options["json"]:
            self.print_json(summary.as_dict())
            return
        self.stdout.write(
            _("Batch %(batch)d: %(rows)d rows, %(accepted)d kept, %(rejected)d rejected.")
            % summary.as_dict()
        )
        for e in summary.errors[:200]:
            self.stdout.write(_("Row %(row)d, %(column)s: %(message)s") % e)

    def _run(self, options: dict[str, Any]) -> None:
        counts = services.batch_run(
            actor=self.system_actor(), batch_id=options["batch"], backend=options["backend"]
        )
        if options["json"]:
            self.print_json({k: counts[k] for k in services.RUN_KEYS})
            return
        self.stdout.write(
            _(
                "%(rows)d rows: %(linked_exact)d linked exactly, %(linked_probable)d linked "
                "as probable, %(review)d to review, %(new)d new, %(rejected)d rejected."
            )
            % counts
        )

    def _export(self, options: dict[str, Any]) -> None:
        batch, lines = services.rows_export(actor=self.system_actor(), batch_id=options["batch"])
        record = "person_id" if batch.source.kind == RecordKind.PEOPLE else "organisation_id"
        out = Path(options["out"])
        try:
            with out.open("w", encoding="utf-8", newline="") as f:
                writer = csv.writer(f)
                writer.writerow(["source_row", "status", record, "probability"])
                for row, status, record_id, probability in lines:
                    writer.writerow(
                        [
                            row,
                            status,
                            "" if record_id is None else record_id,
                            "" if probability is None else f"{probability:.6f}",
                        ]
                    )
        except OSError as exc:
            raise CommandError(
                _("Cannot write %(path)s: %(error)s") % {"path": out, "error": exc.strerror}
            ) from None
        self.stderr.write(_("%(n)d rows written to %(path)s") % {"n": len(lines), "path": out})

    def _duplicates(self, options: dict[str, Any]) -> None:
        result = services.duplicates_find(
            actor=self.system_actor(), region_code=options["region"], kind=options["kind"]
        )
        if options["json"]:
            self.print_json(result)
            return
        self.stdout.write(
            _(
                "%(records)d records compared: %(suspected)d suspected pairs, %(queued)d new "
                "in the review queue."
            )
            % result
        )
