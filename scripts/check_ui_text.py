"""Fail on untranslated UI text: render every page of the test world in zh-Hans as each role
(anonymous and the six demo logins) and list the Latin-letter words outside the allowlist of
codes, units and proper names (tests/ui_text.py). Runs in `make lint`, in a database of its own
(SQLite in memory, or WANGGE_TEST_DATABASE_URL)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wangge.settings_test")


def main() -> int:
    import logging

    import django

    django.setup()
    # Quiet: the denied pages' 404s, and the demo SMS backend's lines while the world is built.
    logging.getLogger("django.request").setLevel(logging.ERROR)
    logging.getLogger("wangge.events.notify").setLevel(logging.WARNING)
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    from tests import world
    from tests.ui_text import walk

    started = time.perf_counter()
    setup_test_environment()
    databases = setup_databases(verbosity=0, interactive=False)
    try:
        world.build()
        found = walk()
    finally:
        teardown_databases(databases, verbosity=0)
    for page, words in sorted(found.items()):
        print(f"{page}: {', '.join(words)}")
    seconds = time.perf_counter() - started
    if found:
        print(f"check_ui_text: untranslated UI text on {len(found)} pages ({seconds:.0f} s)")
        return 1
    print(f"check_ui_text: every page in zh-Hans ({seconds:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
