"""`wangge grids restructure move|split|merge|recode …` (the `wangge` command maps `grids
restructure` here): a dry run unless `--apply`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from wangge.core import dates
from wangge.core.management.base import WanggeCommand
from wangge.restructure import services


def _common(p: Any) -> None:
    p.add_argument(
        "--effective", help="the day the new grids take effect (YYYY-MM-DD; default: now)"
    )
    p.add_argument("--mapping", help="CSV of kind,id,grid: where records without a location go")
    p.add_argument("--default", default="", help="the new grid for records nothing else places")
    p.add_argument("--apply", action="store_true", help="do it (default: a dry run)")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--as", dest="username", default="", help="act as this user (default: the system)"
    )


class Command(WanggeCommand):
    help = "Restructure grids: move, split, merge, recode. A dry run unless --apply."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="operation", required=True)
        p = sub.add_parser("move", help="move a grid to another community (it gets a new code)")
        p.add_argument("grid")
        p.add_argument("--to", dest="community", required=True, help="the community (12 digits)")
        p.add_argument("--code", default="", help="the new code (default: the next free one)")
        p.add_argument("--name", default="", help="a new name (default: the same)")
        _common(p)
        p = sub.add_parser("recode", help="give a grid a new code and/or a new name")
        p.add_argument("grid")
        p.add_argument("--code", default="")
        p.add_argument("--name", default="")
        _common(p)
        p = sub.add_parser("merge", help="merge neighbouring grids of one community")
        p.add_argument("grids", nargs="+")
        p.add_argument("--code", default="", help="the merged grid's code (default: the first's)")
        p.add_argument("--name", default="")
        _common(p)
        p = sub.add_parser("split", help="split a grid into the grids of a GeoJSON file")
        p.add_argument("grid")
        p.add_argument("--pieces", required=True, help="GeoJSON FeatureCollection (code, name)")
        _common(p)

    def handle(self, *args: Any, **options: Any) -> None:
        operation = options["operation"]
        report = services.restructure(
            actor=self.actor_for(options["username"]),
            operation=operation,
            grids=options.get("grids") or [options["grid"]],
            code=options.get("code", ""),
            name=options.get("name", ""),
            community=options.get("community", ""),
            pieces=self._read(options.get("pieces"), binary=True) if operation == "split" else None,
            effective=self._effective(options["effective"]),
            mapping=self._read(options["mapping"], binary=False) if options["mapping"] else "",
            default=options["default"],
            apply=options["apply"],
        )
        data = report.as_dict()
        if options["json"]:
            self.print_json(data)
        else:
            self._print(data)
        if not report.ok:
            self.fail()

    def _read(self, path: str | None, *, binary: bool) -> Any:
        assert path is not None
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc.strerror}
            ) from None
        if binary:
            return raw
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CommandError(_("%(path)s is not UTF-8 text.") % {"path": path}) from None

    def _effective(self, text: str | None) -> dt.datetime | None:
        day = dates.parse_day(text or "", field="--effective")
        return dates.day_start(day) if day else None

    def _print(self, data: dict[str, Any]) -> None:
        regions = data["regions"]
        for label, key in ((_("Closed grids"), "closed"),):
            if regions[key]:
                self.stdout.write(f"{label}: " + "、".join(regions[key]))
        for label, key in ((_("New grids"), "created"), (_("Changed regions"), "changed")):
            if regions[key]:
                self.stdout.write(
                    f"{label}: " + "、".join(f"{r['code']} {r['name']}" for r in regions[key])
                )
        for module, result in data["modules"].items():
            for kind, targets in result["moved"].items():
                for target, n in targets.items():
                    self.stdout.write(f"  {module} {kind} → {target}: {n}")
            for note in result["notes"]:
                self.stdout.write(f"  {module}: {note}")
        for target, n in data["per_grid"].items():
            self.stdout.write(_("%(grid)s receives %(n)d record(s)") % {"grid": target, "n": n})
        for u in data["unplaced"]:
            self.stdout.write(
                "✗ "
                + _("cannot be placed: %(kind)s %(id)s %(label)s (on %(grid)s)")
                % {"kind": u["kind"], "id": u["id"], "label": u["label"], "grid": u["grid_code"]}
            )
        for p in data["problems"]:
            self.stdout.write(f"✗ [{p['kind']}] {p['code'] or ''}: {p['message']}")
        if data["problems"]:
            self.stdout.write(
                self.style.ERROR(_("Nothing was changed: the operation has problems."))
            )
        elif data["unplaced"]:
            self.stdout.write(
                self.style.ERROR(
                    _(
                        "Nothing was changed: %(n)d record(s) cannot be placed; give a mapping "
                        "or a default grid."
                    )
                    % {"n": len(data["unplaced"])}
                )
            )
        elif data["applied"]:
            self.stdout.write(self.style.SUCCESS(_("Done: the restructure is applied.")))
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    _("Dry run: nothing was changed. Run again with --apply to do it.")
                )
            )
