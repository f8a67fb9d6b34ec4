"""Fail when the zh_Hans catalogue misses a msgid the code uses, or has an untranslated or fuzzy
entry. Extraction runs Django's makemessages (GNU gettext's xgettext) on a scratch copy."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "wangge" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _ids(path: Path) -> set[str]:
    with path.open("rb") as handle:
        return {
            str(m.id) if isinstance(m.id, str) else str(m.id[0]) for m in read_po(handle) if m.id
        }


def extracted() -> set[str]:
    if shutil.which("xgettext") is None:
        sys.exit("xgettext is missing: install GNU gettext (Debian: apt-get install gettext)")
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "wangge"
        shutil.copytree(
            ROOT / "wangge",
            copy,
            ignore=shutil.ignore_patterns("vendor", "__pycache__", "*.mo", "data"),
        )
        shutil.rmtree(copy / "locale")
        (copy / "locale").mkdir()
        env = {**os.environ, "WANGGE_DATA_DIR": tmp, "PYTHONPATH": str(ROOT)}
        subprocess.run(  # noqa: S603 - our own tool with fixed arguments
            [
                str(Path(sys.executable).parent / "django-admin"),
                "makemessages",
                "-l",
                "zh_Hans",
                "--no-location",
                "--settings=wangge.settings_test",
            ],
            cwd=copy,
            env=env,
            check=True,
            capture_output=True,
        )
        # A fresh template has no Plural-Forms header; Babel warns about that on stderr.
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            return _ids(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")


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
    missing = sorted(extracted() - _ids(PO))
    if bad or missing:
        for msgid in bad[:30]:
            print(f"untranslated or fuzzy: {msgid!r}", file=sys.stderr)
        for msgid in missing[:30]:
            print(f"missing from the catalogue: {msgid!r}", file=sys.stderr)
        print("run `make messages`, translate, commit.", file=sys.stderr)
        return 1
    print(f"{PO.relative_to(ROOT)}: {len(catalog)} entries, all translated, none missing.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
