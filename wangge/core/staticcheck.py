"""The front-end files the pages name (core/vendor_files.txt) must be there before a server
starts: without them every page is a 500 (the manifest storage cannot name them). A checkout gets
them from `make setup` (npm), an installed wheel carries them (hatch_build.py)."""

from __future__ import annotations

from pathlib import Path

from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.utils.translation import gettext, gettext_noop

VENDOR_LIST = Path(__file__).with_name("vendor_files.txt")

MISSING = gettext_noop(
    "The front-end files are missing (%(files)s), so every page would fail: the server does not "
    "start. In a checkout run `make setup` (it needs Node.js); or install the wheel, which "
    "carries them (`make wheel`)."
)
NOT_COLLECTED = gettext_noop(
    "The collected static files (%(root)s) lack %(files)s, so every page would fail: the server "
    "does not start. Run it without --no-collectstatic, or `wangge collectstatic` first."
)


def required_static() -> list[str]:
    lines = VENDOR_LIST.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def missing_static(*, collected: bool = False) -> list[str]:
    """The required files the server could not serve: not found by the static finders (the
    source that collectstatic copies from), or, with `collected`, not in the manifest of the
    files already collected into STATIC_ROOT."""
    if not collected:
        return [name for name in required_static() if finders.find(name) is None]
    # The manifest storage (production) names a file by its hash, and raises ValueError for a
    # name its manifest lacks; a plain storage (the tests') by its own name.
    stored_name = getattr(staticfiles_storage, "stored_name", None)
    missing = []
    for name in required_static():
        try:
            present = staticfiles_storage.exists(stored_name(name) if stored_name else name)
        except ValueError:
            present = False
        if not present:
            missing.append(name)
    return missing


def static_problem(*, collected: bool = False) -> str | None:
    """A message in the site language and in English, or None when nothing is missing."""
    from django.conf import settings

    missing = missing_static(collected=collected)
    if not missing:
        return None
    shown = ", ".join(missing[:3]) + (" …" if len(missing) > 3 else "")
    template = NOT_COLLECTED if collected else MISSING
    values = {"files": shown, "root": settings.STATIC_ROOT}
    local, english = gettext(template) % values, template % values
    return local if local == english else f"{local}\n{english}"
