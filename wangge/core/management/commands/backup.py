from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from wangge.core import backup
from wangge.core.management.base import WanggeCommand


class Command(WanggeCommand):
    help = (
        "Back up the database (SQLite online backup or pg_dump) and the uploaded files into a "
        "new directory with a manifest; the keys separately (--keys-out)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, type=Path, help="a new or empty directory")
        parser.add_argument(
            "--keys-out",
            type=Path,
            help="a new or empty directory on other media for the key files (never inside --out)",
        )
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        result = backup.backup_create(
            actor=self.system_actor(), out=options["out"], keys_out=options["keys_out"]
        )
        manifest = result.manifest
        keys = {role: str(path) for role, path in result.key_files.items() if path.exists()}
        if options["json"]:
            self.print_json(
                {
                    "out": str(result.out),
                    "keys_out": str(result.keys_out) if result.keys_out else None,
                    "key_files": keys,
                    "vendor": manifest["database"]["vendor"],
                    "tables": manifest["tables"],
                    "files": len(manifest["files"]),
                }
            )
            return
        self.stdout.write(
            _(
                "Backup written to %(out)s: %(vendor)s database, %(tables)d tables, %(rows)d "
                "rows, %(files)d files."
            )
            % {
                "out": result.out,
                "vendor": manifest["database"]["vendor"],
                "tables": len(manifest["tables"]),
                "rows": sum(manifest["tables"].values()),
                "files": len(manifest["files"]),
            }
        )
        if result.keys_out is not None:
            self.stdout.write(
                _("Keys written to %(dir)s: keep it on other media than the backup.")
                % {"dir": result.keys_out}
            )
            return
        self.stdout.write(
            _(
                "The keys are NOT in the backup. Copy these files to other media than the "
                "backup (or run again with --keys-out DIR):"
            )
        )
        for path in keys.values():
            self.stdout.write(f"  {path}")
