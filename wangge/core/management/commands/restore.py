from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from wangge.core import backup
from wangge.core.management.base import WanggeCommand


class Command(WanggeCommand):
    help = (
        "Restore a backup made by `wangge backup` into an empty installation (stop the server "
        "and the worker first); checks the manifest first and the restored data after."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", type=Path, help="the backup directory")
        parser.add_argument(
            "--keys", type=Path, help="the keys directory made by `wangge backup --keys-out`"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace a non-empty installation (what is there is moved aside or dropped)",
        )
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        result = backup.backup_restore(
            actor=self.system_actor(),
            source=options["source"],
            keys=options["keys"],
            force=options["force"],
        )
        if options["json"]:
            self.print_json(
                {
                    "ok": not result.audit_problems,
                    "created_at": result.manifest["created_at"],
                    "tables": result.tables,
                    "rows": result.rows,
                    "files": result.files,
                    "keys_placed": result.keys_placed,
                    "moved_aside": [str(p) for p in result.moved_aside],
                    "columns_decrypted": result.columns_decrypted,
                    "unapplied_migrations": result.unapplied_migrations,
                    "audit_problems": result.audit_problems,
                }
            )
        else:
            self._report(result)
        if result.audit_problems:
            self.fail()

    def _report(self, result: backup.RestoreResult) -> None:
        self.stdout.write(
            _(
                "Restored the backup of %(at)s: %(tables)d tables, %(rows)d rows (the same as "
                "the manifest), %(files)d files; a sample of %(columns)d encrypted columns "
                "decrypts."
            )
            % {
                "at": result.manifest["created_at"],
                "tables": result.tables,
                "rows": result.rows,
                "files": result.files,
                "columns": result.columns_decrypted,
            }
        )
        if result.keys_placed:
            self.stdout.write(
                _("Key files put in place: %(roles)s.") % {"roles": ", ".join(result.keys_placed)}
            )
        for path in result.moved_aside:
            self.stdout.write(_("Moved aside (delete it when satisfied): %(p)s") % {"p": path})
        if result.unapplied_migrations:
            self.stdout.write(_("The backup is from an older version: run `wangge migrate` now."))
        if result.audit_problems:
            self.stderr.write(_("The restored audit log does not verify:"))
            for message in result.audit_problems:
                self.stderr.write(f"  {message}")
            return
        self.stdout.write(
            _("The audit log verifies. Next: `wangge check`, then start the server and worker.")
        )
