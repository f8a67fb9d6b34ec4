"""Run every benchmark (the README's benchmark command: `make bench`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    "locate.py",
    "import_people.py",
    "events.py",
    "ledger_writes.py",
    "campaigns.py",
    "restructure.py",
    "linkage.py",
]


def main() -> int:
    status = 0
    for script in SCRIPTS:
        print(f"\n##### benchmarks/{script}", flush=True)
        status |= subprocess.call([sys.executable, str(HERE / script)])
    return status


if __name__ == "__main__":
    sys.exit(main())
