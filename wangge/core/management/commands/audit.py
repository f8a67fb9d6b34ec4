from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from wangge.core.audit import AuditReport, audit_checkpoint, audit_verify, checkpoint_file_path
from wangge.core.management.base import WanggeCommand
from wangge.core.selectors import audit_list


class Command(WanggeCommand):
    help = (
        "The audit log: verify the keyed hash chain and its checkpoints, write a checkpoint of "
        "the head, or show the latest entries."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser(
            "verify", help="check every entry's hash and sequence, and every checkpoint"
        )
        verify.add_argument("--json", action="store_true")
        checkpoint = sub.add_parser(
            "checkpoint", help="append a signed checkpoint of the head (nothing if unchanged)"
        )
        checkpoint.add_argument("--json", action="store_true")
        tail = sub.add_parser("tail", help="print the latest entries")
        tail.add_argument("-n", type=int, default=20)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "verify":
            self._verify(as_json=options["json"])
            return
        if options["action"] == "checkpoint":
            self._checkpoint(as_json=options["json"])
            return
        for e in reversed(list(audit_list(actor=self.system_actor())[: options["n"]])):
            self.stdout.write(
                f"#{e.seq} {e.at:%Y-%m-%d %H:%M:%S} {e.actor_name} {e.action} "
                f"{e.object_type}:{e.object_id} {e.outcome} {e.client_ip} {e.details}"
            )

    def _verify(self, *, as_json: bool) -> None:
        report = audit_verify()
        if as_json:
            last = report.last_checkpoint
            self.print_json(
                {
                    "ok": not report.problems,
                    "entries": report.entries,
                    "head": report.head,
                    "checkpoints": report.checkpoints,
                    "last_checkpoint": (
                        {"seq": last.seq, "hash": last.hash, "at": last.at} if last else None
                    ),
                    "problems": [
                        {
                            "kind": p.kind,
                            "seq": p.seq,
                            "last_seq": p.last_seq,
                            "checkpoint": p.checkpoint,
                            "message": p.message,
                        }
                        for p in report.problems
                    ],
                }
            )
        else:
            self._verify_text(report)
        if report.problems:
            self.fail()

    def _verify_text(self, report: AuditReport) -> None:
        for p in report.problems:
            self.stdout.write(self.style.ERROR(p.message))
        if any(p.kind != "key_missing" for p in report.problems):
            self.stdout.write(
                self.style.ERROR(
                    _(
                        "The audit log has been tampered with: "
                        "%(n)d problem(s) in %(total)d entries."
                    )
                    % {"n": len(report.problems), "total": report.entries}
                )
            )
            return
        if report.problems:
            self.stdout.write(
                self.style.ERROR(
                    _("The audit log cannot be verified without its key: %(n)d entries.")
                    % {"n": report.entries}
                )
            )
            return
        self.stdout.write(
            self.style.SUCCESS(_("The audit log is intact: %(n)d entries.") % {"n": report.entries})
        )
        last = report.last_checkpoint
        if last is None:
            # Not a failure (a new installation has none yet), but without one a cut tail
            # cannot be seen: say so.
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "No checkpoint in %(path)s yet: run `wangge worker`, or "
                        "`wangge audit checkpoint`."
                    )
                    % {"path": checkpoint_file_path()}
                )
            )
        else:
            self.stdout.write(
                _("%(n)d checkpoint(s) match; the last: #%(seq)d at %(at)s.")
                % {"n": report.checkpoints, "seq": last.seq, "at": last.at}
            )

    def _checkpoint(self, *, as_json: bool) -> None:
        result = audit_checkpoint()
        checkpoint = result.checkpoint
        if as_json:
            self.print_json(
                {
                    "written": result.written,
                    "checkpoint": (
                        {"seq": checkpoint.seq, "hash": checkpoint.hash, "at": checkpoint.at}
                        if checkpoint
                        else None
                    ),
                    "file": str(checkpoint_file_path()),
                }
            )
        elif checkpoint is None:
            self.stdout.write(_("The audit log is empty: nothing to checkpoint."))
        elif result.written:
            self.stdout.write(
                self.style.SUCCESS(
                    _("Checkpoint written: #%(seq)d at %(at)s.")
                    % {"seq": checkpoint.seq, "at": checkpoint.at}
                )
            )
        else:
            self.stdout.write(
                _("No new entries since the last checkpoint (#%(seq)d).") % {"seq": checkpoint.seq}
            )
