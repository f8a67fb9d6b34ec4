from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from wangge.core.geo import Crs
from wangge.core.management.base import WanggeCommand
from wangge.core.selectors import department_by_code
from wangge.regions import services
from wangge.regions.locate import grid_index
from wangge.regions.locate_csv import locate_csv
from wangge.regions.selectors import layer_list


class Command(WanggeCommand):
    help = "Grids: import, check, export, locate, department layers."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)

        imp = sub.add_parser("import", help="import a GeoJSON layer, all or nothing")
        imp.add_argument("file")
        imp.add_argument("--layer", default="unified", help="unified, or a department layer code")
        imp.add_argument("--dry-run", action="store_true")
        imp.add_argument("--json", action="store_true")
        imp.add_argument(
            "--repair", action="store_true", help="apply make_valid and close rings; lists changes"
        )
        imp.add_argument("--valid-from", help="ISO date-time the new boundaries take effect")

        chk = sub.add_parser("check", help="run the import checks on what is stored")
        chk.add_argument("--json", action="store_true")

        exp = sub.add_parser("export", help="write GeoJSON that imports back unchanged")
        exp.add_argument("--layer", default="unified")
        exp.add_argument("--out", help="file (default: standard output)")

        loc = sub.add_parser("locate", help="which grid holds a point, or every row of a CSV")
        loc.add_argument("lon", nargs="?", type=float)
        loc.add_argument("lat", nargs="?", type=float)
        loc.add_argument("--crs", choices=[c.value for c in Crs], default="wgs84")
        loc.add_argument("--csv", help="input CSV with lon/lat (经度/纬度) columns")
        loc.add_argument("--out", help="output CSV (with grid_code added)")
        loc.add_argument("--json", action="store_true")

        his = sub.add_parser("history", help="which grid a code was on a day (from the versions)")
        his.add_argument("code")
        his.add_argument("--on", default="", help="the day (YYYY-MM-DD; default: today)")
        his.add_argument("--json", action="store_true")

        lay = sub.add_parser("layers", help="list department layers, or add one")
        lay.add_argument("--add", metavar="CODE")
        lay.add_argument("--name")
        lay.add_argument("--department", help="department code, e.g. chengguan")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "_" + options["action"])(options)

    # -- import / check / export ----------------------------------------------------------------

    def _import(self, options: dict[str, Any]) -> None:
        path = Path(options["file"])
        data = self.read_file(path)
        valid_from = None
        if options["valid_from"]:
            from django.utils.dateparse import parse_datetime
            from django.utils.timezone import make_aware

            valid_from = parse_datetime(options["valid_from"])
            if valid_from is None:
                raise CommandError(_("--valid-from must be an ISO date-time"))
            if valid_from.tzinfo is None:
                valid_from = make_aware(valid_from)
        report = services.grids_import(
            actor=self.system_actor(),
            data=data,
            layer=options["layer"],
            dry_run=options["dry_run"],
            repair=options["repair"],
            source=path.name,
            valid_from=valid_from,
        )
        self._report(report.as_dict(), options["json"])
        if not report.ok:
            self.fail()

    def _check(self, options: dict[str, Any]) -> None:
        report = services.grids_check()
        self._report(report.as_dict(), options["json"])
        if not report.ok:
            self.fail()

    def _report(self, data: dict[str, Any], as_json: bool) -> None:
        if as_json:
            self.print_json(data)
            return
        counts = "，".join(f"{k} {v}" for k, v in data["counts"].items())
        for repair in data.get("repairs", []):
            self.stdout.write(
                _("Repaired feature %(feature)s (%(code)s): %(change)s")
                % {"feature": repair["feature"], "code": repair["code"], "change": repair["change"]}
            )
        for p in data["problems"]:
            where = f" @ {p['location'][0]},{p['location'][1]}" if p.get("location") else ""
            self.stdout.write(
                f"✗ [{p['kind']}] "
                + _("feature %(f)s") % {"f": p["feature"]}
                + f" {p['code'] or ''}: {p['message']}{where}"
            )
        if data["ok"]:
            msg = _("OK (dry run, nothing stored)") if data["dry_run"] else _("OK")
            self.stdout.write(self.style.SUCCESS(f"{msg}: {counts}"))
        else:
            self.stdout.write(
                self.style.ERROR(
                    _("%(n)d problem(s); nothing was stored.") % {"n": len(data["problems"])}
                )
            )

    def _export(self, options: dict[str, Any]) -> None:
        doc = services.grids_export(layer=options["layer"])
        text = json.dumps(doc, ensure_ascii=False)
        if options["out"]:
            Path(options["out"]).write_text(text, encoding="utf-8")
            self.stderr.write(
                _("%(n)d features written to %(path)s")
                % {"n": len(doc["features"]), "path": options["out"]}
            )
        else:
            self.stdout.write(text)

    # -- history ---------------------------------------------------------------------------------

    def _history(self, options: dict[str, Any]) -> None:
        from django.utils import timezone

        from wangge.core import dates
        from wangge.regions.models import Operation
        from wangge.regions.selectors import grid_history

        on = dates.parse_day(options["on"], field="--on") or timezone.localdate()
        data = grid_history(actor=self.system_actor(), code=options["code"], on=on)
        if options["json"]:
            self.print_json(data)
            return
        if data["existed"]:
            self.stdout.write(
                _("On %(on)s, %(code)s was %(name)s.")
                % {"on": on, "code": data["code"], "name": data["name"]}
            )
        else:
            self.stdout.write(
                _("On %(on)s, %(code)s did not exist.") % {"on": on, "code": data["code"]}
            )
        for link in data["came_from"]:
            self.stdout.write(
                _("From %(at)s it took over from %(code)s %(name)s (%(op)s).")
                % {
                    "at": link["at"][:10],
                    "code": link["code"],
                    "name": link["name"],
                    "op": Operation(link["operation"]).label,
                }
            )
        for link in data["became"]:
            self.stdout.write(
                _("From %(at)s it became %(code)s %(name)s (%(op)s, %(share).0f%% of its area).")
                % {
                    "at": link["at"][:10],
                    "code": link["code"],
                    "name": link["name"],
                    "op": Operation(link["operation"]).label,
                    "share": link["share"] * 100,
                }
            )
        self.stdout.write(_("Now: %(codes)s") % {"codes": "、".join(data["now"]) or "-"})

    # -- locate ----------------------------------------------------------------------------------

    def _locate(self, options: dict[str, Any]) -> None:
        if options["csv"]:
            self._locate_csv(options)
            return
        if options["lon"] is None or options["lat"] is None:
            raise CommandError(_("Give LON LAT, or --csv IN --out OUT."))
        index = grid_index()
        code = index.codes_for(index.locate([options["lon"]], [options["lat"]], options["crs"]))[0]
        result = {
            "lon": options["lon"],
            "lat": options["lat"],
            "crs": options["crs"],
            "grid_code": code,
            "grid": index.names.get(code) if code else None,
            "community_code": code[:12] if code else None,
            "community": index.names.get(code[:12]) if code else None,
            "street_code": code[:9] if code else None,
            "street": index.names.get(code[:9]) if code else None,
        }
        if options["json"]:
            self.print_json(result)
        elif code:
            self.stdout.write(
                f"{code} {result['grid']}（{result['street']} {result['community']}）"
            )
        else:
            self.stdout.write(_("The point lies outside every grid."))
        if not code:
            self.fail()

    def _locate_csv(self, options: dict[str, Any]) -> None:
        if not options["out"]:
            raise CommandError(_("--csv needs --out"))
        summary = locate_csv(
            data=self.read_file(Path(options["csv"])),
            out=Path(options["out"]),
            index=grid_index(),
            crs=options["crs"],
        )
        if options["json"]:
            self.print_json(summary.as_dict())
            return
        self.stdout.write(
            _(
                "%(rows)d rows: %(located)d located, %(outside)d outside every grid, "
                "%(invalid)d without valid coordinates."
            )
            % summary.as_dict()
        )
        if summary.outside_rows:
            self.stdout.write(
                _("Rows outside every grid: %(rows)s")
                % {"rows": ", ".join(map(str, summary.outside_rows[:50]))}
            )
        if summary.invalid_rows:
            self.stdout.write(
                _("Rows without valid coordinates: %(rows)s")
                % {"rows": ", ".join(map(str, summary.invalid_rows[:50]))}
            )

    # -- layers ----------------------------------------------------------------------------------

    def _layers(self, options: dict[str, Any]) -> None:
        if options["add"]:
            department = department_by_code(options["department"])
            layer = services.layer_create(
                actor=self.system_actor(),
                slug=options["add"],
                name=options["name"] or options["add"],
                department=department,
            )
            self.stdout.write(_("Layer %(slug)s created.") % {"slug": layer.slug})
            return
        for layer in layer_list(actor=self.system_actor()):
            self.stdout.write(f"{layer.slug}\t{layer.name}")
        sys.stdout.flush()
