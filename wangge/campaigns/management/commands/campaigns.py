"""`wangge campaigns create | progress | report | scan`: campaigns for operators, as the system.

Record kinds are named with the words `--kinds` takes — people, households, addresses,
organisations, things — in what `create` reads and in what `progress --json` prints."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from wangge.campaigns import exports, scan, selectors, services
from wangge.campaigns.models import Kind, Outcome, TaskState
from wangge.core.errors import NotFound
from wangge.core.management.base import WanggeCommand

# The words of --kinds (and of progress' output) → the model's kinds.
KIND_WORDS = {
    "people": "person",
    "households": "household",
    "addresses": "room",
    "organisations": "organisation",
    "things": "thing",
}
WORD_OF = {kind: word for word, kind in KIND_WORDS.items()}
RECORD_KEYS = ("total", "verified", "corrected", "added", "retired")


class _Parser(CommandParser):
    """Bad arguments: one line and exit status 1 (the command's other errors' status)."""

    def error(self, message: str) -> NoReturn:
        if not self.called_from_command_line:
            raise CommandError(_("Bad arguments: %(message)s") % {"message": message})
        self.print_usage(sys.stderr)
        sys.stderr.write(_("Bad arguments: %(message)s") % {"message": message} + "\n")
        sys.exit(1)


def _day(value: str | None, flag: str) -> dt.date:
    if not value:
        raise CommandError(_("Give %(flag)s (a date, YYYY-MM-DD).") % {"flag": flag})
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            _("%(flag)s is not a date (YYYY-MM-DD): %(value)s") % {"flag": flag, "value": value}
        ) from None


def _words(value: str | None) -> list[str]:
    return [w.strip() for w in (value or "").replace("，", ",").split(",") if w.strip()]


def kinds_of(value: str | None) -> list[str] | None:
    """--kinds' words → the model's kinds (None: the template's)."""
    words = _words(value)
    if not words:
        return None
    unknown = [w for w in words if w.lower() not in KIND_WORDS]
    if unknown:
        raise CommandError(
            _("Unknown kind of record: %(words)s (use %(known)s).")
            % {"words": ", ".join(unknown), "known": ", ".join(KIND_WORDS)}
        )
    return list(dict.fromkeys(KIND_WORDS[w.lower()] for w in words))


def progress_summary(data: dict[str, Any]) -> dict[str, Any]:
    """The progress selector's answer in the CLI's documented shape (and only that)."""
    return {
        "tasks": data["tasks"],
        "by_state": dict(data["by_state"]),
        "records": {
            WORD_OF.get(kind, kind): {key: counts.get(key, 0) for key in RECORD_KEYS}
            for kind, counts in data["records"].items()
        },
        "households": dict(data["households"]),
        "conflicts": data["conflicts"],
    }


class Command(WanggeCommand):
    help = (
        "Campaigns (采集核查专项行动): create one over regions, print its progress, write the "
        "progress workbook, run the scan (expired holds, overdue tasks)."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.__class__ = _Parser  # its errors too: one line, status 1
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, parser_class=_Parser)
        p = sub.add_parser("create", help="start a campaign: one task per grid of the regions")
        p.add_argument("--name", help="the campaign's name")
        p.add_argument("--template", help="basic, visit, rental or hazard")
        p.add_argument("--region", help="region codes, comma-separated (district, streets …)")
        p.add_argument("--start", help="first day, YYYY-MM-DD")
        p.add_argument("--end", help="last day, YYYY-MM-DD")
        p.add_argument(
            "--kinds",
            help="comma-separated: " + ",".join(KIND_WORDS) + " (default: the template's)",
        )
        p.add_argument("--spot-check", type=str, help="the street's spot-check share, 0 to 1")
        p.add_argument("--json", action="store_true", help='print {"id": …, "tasks": N}')
        p = sub.add_parser("progress", help="a campaign's progress")
        p.add_argument("campaign", help="the campaign's id")
        p.add_argument("--json", action="store_true")
        p = sub.add_parser("report", help="write the progress workbook (xlsx)")
        p.add_argument("campaign", help="the campaign's id")
        p.add_argument("--out", help="the workbook to write, FILE.xlsx")
        p = sub.add_parser("scan", help="release expired holds, notify overdue tasks once")
        p.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            self._create(options)
        elif action == "progress":
            self._progress(options)
        elif action == "report":
            self._report(options)
        else:
            result = scan.scan()
            if options["json"]:
                self.print_json(result)
            else:
                self.stdout.write(
                    _(
                        "%(holds_expired)d expired holds released, "
                        "%(overdue_notified)d overdue tasks notified."
                    )
                    % result
                )

    def _campaign(self, value: str) -> Any:
        try:
            return selectors.campaign_get(actor=self.system_actor(), campaign_id=value)
        except NotFound:
            raise CommandError(_("No campaign with id %(id)s.") % {"id": value}) from None

    def _create(self, options: dict[str, Any]) -> None:
        name = (options.get("name") or "").strip()
        if not name:
            raise CommandError(_("Give the campaign a name (--name)."))
        if not options.get("template"):
            raise CommandError(_("Give the template (--template): basic, visit, rental or hazard."))
        regions = _words(options.get("region"))
        if not regions:
            raise CommandError(_("Give the regions (--region CODE[,CODE…])."))
        start, end = _day(options.get("start"), "--start"), _day(options.get("end"), "--end")
        rate = None
        if options.get("spot_check") not in (None, ""):
            try:
                rate = float(options["spot_check"])
            except ValueError:
                raise CommandError(
                    _("--spot-check is a share between 0 and 1: %(value)s")
                    % {"value": options["spot_check"]}
                ) from None
        campaign = services.campaign_create(
            actor=self.system_actor(),
            name=name,
            template=options["template"].strip(),
            regions=regions,
            start=start,
            end=end,
            kinds=kinds_of(options.get("kinds")),
            spot_check_rate=rate,
        )
        tasks = selectors.campaign_tasks(actor=self.system_actor(), campaign=campaign)
        if options["json"]:
            self.print_json({"id": campaign.pk, "tasks": len(tasks)})
            return
        self.stdout.write(
            _("Campaign #%(id)d “%(name)s” created: %(tasks)d tasks, %(start)s to %(end)s.")
            % {
                "id": campaign.pk,
                "name": campaign.name,
                "tasks": len(tasks),
                "start": campaign.start.isoformat(),
                "end": campaign.end.isoformat(),
            }
        )

    def _progress(self, options: dict[str, Any]) -> None:
        campaign = self._campaign(options["campaign"])
        data = selectors.progress(actor=self.system_actor(), campaign=campaign)
        summary = progress_summary(data)
        if options["json"]:
            self.print_json(summary)
            return
        states = dict(TaskState.choices)
        self.stdout.write(
            _("Campaign #%(id)d “%(name)s”, %(start)s to %(end)s, %(days)d days left.")
            % {
                "id": campaign.pk,
                "name": campaign.name,
                "start": campaign.start.isoformat(),
                "end": campaign.end.isoformat(),
                "days": data["days_left"],
            }
        )
        by_state = "，".join(
            f"{states[s]} {n}" for s, n in summary["by_state"].items() if n and s in states
        )
        self.stdout.write(
            _("Tasks: %(n)d (%(states)s)") % {"n": summary["tasks"], "states": by_state}
        )
        labels = {WORD_OF[k]: str(v) for k, v in Kind.choices}
        for word, counts in summary["records"].items():
            self.stdout.write(
                _(
                    "%(kind)s: %(verified)d of %(total)d verified (%(corrected)d corrected, "
                    "%(added)d added, %(retired)d retired)"
                )
                % {"kind": labels.get(word, word), **counts}
            )
        if any(summary["households"].values()):
            outcomes = dict(Outcome.choices)
            self.stdout.write(
                _("Household visits: %(visits)s")
                % {
                    "visits": "，".join(
                        f"{outcomes[o]} {n}" for o, n in summary["households"].items()
                    )
                }
            )
        self.stdout.write(_("Open conflicts: %(n)d") % {"n": summary["conflicts"]})

    def _report(self, options: dict[str, Any]) -> None:
        out = options.get("out")
        if not out:
            raise CommandError(_("Give the workbook to write (--out FILE.xlsx)."))
        path = Path(out)
        if not path.parent.is_dir():
            raise CommandError(_("No such directory: %(dir)s") % {"dir": path.parent})
        campaign = self._campaign(options["campaign"])
        data = exports.progress_workbook(actor=self.system_actor(), campaign=campaign)
        try:
            path.write_bytes(data)
        except OSError as exc:
            raise CommandError(
                _("Cannot write %(path)s: %(error)s") % {"path": path, "error": exc.strerror}
            ) from None
        self.stdout.write(_("Progress workbook written to %(path)s.") % {"path": path})
