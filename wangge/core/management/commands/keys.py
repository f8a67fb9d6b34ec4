from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from wangge.core import crypto
from wangge.core.audit import audit_record
from wangge.core.management.base import WanggeCommand


class Command(WanggeCommand):
    help = "Personal-data keys: status, rotate (re-encrypt in batches), retire an unused key."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("status")
        rotate = sub.add_parser("rotate", help="make a new active key and re-encrypt every row")
        rotate.add_argument("--profile", choices=sorted(crypto.PROFILES), help="aes or sm")
        rotate.add_argument("--batch", type=int, default=1000)
        rotate.add_argument(
            "--resume", action="store_true", help="re-encrypt under the current key, no new key"
        )
        retire = sub.add_parser("retire", help="remove a key no row uses any more")
        retire.add_argument("key")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        ring = crypto.keyring()
        if action == "status":
            used = crypto.keys_in_use()
            self.stdout.write(_("Key file: %(p)s") % {"p": crypto.key_file_path()})
            for key_id, key in ring.keys.items():
                flags = []
                if key_id == ring.active:
                    flags.append(_("active"))
                if key_id in used:
                    flags.append(_("in use"))
                self.stdout.write(f"  {key_id}\t{key.algorithm}\t{', '.join(flags)}")
            self.stdout.write(_("Blind index: %(alg)s") % {"alg": ring.mac_algorithm})
            return
        if action == "retire":
            if options["key"] in crypto.keys_in_use():
                raise CommandError(
                    _("Key %(k)s still encrypts rows: rotate first.") % {"k": options["key"]}
                )
            crypto.key_retire(options["key"])
            audit_record(actor=self.system_actor(), action="keys.retire", object_id=options["key"])
            self.stdout.write(_("Key %(k)s removed.") % {"k": options["key"]})
            return
        if not options["resume"]:
            key_id = crypto.key_add(profile=options["profile"])
            audit_record(
                actor=self.system_actor(),
                action="keys.rotate",
                object_id=key_id,
                details={"profile": options["profile"] or ""},
            )
            self.stdout.write(_("New active key %(k)s.") % {"k": key_id})

        def progress(label: str, done: int) -> None:
            self.stderr.write(f"\r{label}: {done}", ending="")

        counts = crypto.reencrypt(batch=options["batch"], progress=progress)
        self.stderr.write("")
        for label, n in counts.items():
            self.stdout.write(_("%(model)s: %(n)d rows re-encrypted") % {"model": label, "n": n})
