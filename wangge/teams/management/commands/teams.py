from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from wangge.core.management.base import WanggeCommand
from wangge.teams import roster
from wangge.teams.selectors import coverage, leader_on


class Command(WanggeCommand):
    help = "Grid teams: coverage check, roster import/export/template, leader history."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        chk = sub.add_parser("check", help="teams, leaders and party organisations of every grid")
        chk.add_argument("--json", action="store_true")
        exp = sub.add_parser("export", help="write the rosters as an Excel workbook")
        exp.add_argument("--out", required=True)
        exp.add_argument("--masked", action="store_true", help="mask ID numbers and phones")
        imp = sub.add_parser("import", help="import a roster workbook (all or nothing)")
        imp.add_argument("file")
        imp.add_argument("--dry-run", action="store_true")
        imp.add_argument("--json", action="store_true")
        imp.add_argument("--errors", metavar="OUT.xlsx", help="write rejected rows with reasons")
        imp.add_argument(
            "--partial", action="store_true", help="store the good rows even if some are rejected"
        )
        tpl = sub.add_parser("template", help="write an empty roster workbook")
        tpl.add_argument("--out", required=True)
        lead = sub.add_parser("leader", help="who led GRID on DATE")
        lead.add_argument("grid")
        lead.add_argument("date", help="YYYY-MM-DD")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "_" + options["action"])(options)

    def _check(self, options: dict[str, Any]) -> None:
        report = coverage(actor=self.system_actor())
        if options["json"]:
            self.print_json(report.as_dict())
        else:
            w = report.by_role
            self.stdout.write(
                _(
                    "%(grids)d grids, %(teams)d teams: %(leader)d leaders, %(full)d full-time, "
                    "%(spec)d specialist, %(part)d part-time; %(orgs)d party organisations "
                    "(%(branches)d branches, %(groups)d groups), %(members)d party members."
                )
                % {
                    "grids": report.grids,
                    "teams": report.teams,
                    "leader": w["leader"],
                    "full": w["full_time"],
                    "spec": w["specialist"],
                    "part": w["part_time"],
                    "orgs": report.party_organisations,
                    "branches": report.branches,
                    "groups": report.groups,
                    "members": report.party_members,
                }
            )
            for p in report.problems:
                self.stdout.write(self.style.ERROR(f"✗ [{p.kind}] {p.message}"))
            if report.ok:
                self.stdout.write(self.style.SUCCESS(_("No problems.")))
        if not report.ok:
            self.fail()

    def _export(self, options: dict[str, Any]) -> None:
        data = roster.roster_export(
            actor=self.system_actor(),
            unmasked=not options["masked"],
            reason="wangge teams export (command line)",
        )
        Path(options["out"]).write_bytes(data)
        self.stderr.write(_("Roster written to %(path)s") % {"path": options["out"]})

    def _template(self, options: dict[str, Any]) -> None:
        Path(options["out"]).write_bytes(roster.template(actor=self.system_actor()))
        self.stderr.write(_("Template written to %(path)s") % {"path": options["out"]})

    def _import(self, options: dict[str, Any]) -> None:
        path = Path(options["file"])
        data = self.read_file(path)
        result = roster.roster_import(
            actor=self.system_actor(),
            data=data,
            filename=path.name,
            dry_run=options["dry_run"],
            all_or_nothing=not options["partial"],
        )
        if options["errors"] and result.rejected_rows:
            Path(options["errors"]).write_bytes(result.error_file())
        if options["json"]:
            self.print_json(result.as_dict())
        else:
            for e in result.errors:
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
            if not result.stored:
                self.stdout.write(_("Nothing was stored."))
        if result.rejected:
            self.fail()

    def _leader(self, options: dict[str, Any]) -> None:
        try:
            day = dt.date.fromisoformat(options["date"])
        except ValueError:
            raise CommandError(_("The date must look like 2022-04-19.")) from None
        staff = leader_on(actor=self.system_actor(), grid_code=options["grid"], day=day)
        if staff is None:
            self.stdout.write(_("No leader on that day."))
            self.fail()
        else:
            self.stdout.write(staff.name)
