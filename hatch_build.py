"""Hatchling build hook: a wheel (and an sdist) of wangge carries the built front-end files
(wangge/static/vendor, copied from node_modules by scripts/vendor_static.sh) and the compiled
translations (.mo), so that `pip install wangge-*.whl && wangge demo` serves pages on a machine
without Node.js. Both are ignored by git, hence `artifacts` in pyproject.toml.

When the files are already there (after `make setup`), the build only checks them; when they are
missing it runs `npm ci` and the vendor script, and refuses with a clear message if Node.js is
not installed. Editable installs (`uv sync`) are left alone: `make setup` builds the files there.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

VENDOR_LIST = "wangge/core/vendor_files.txt"
STATIC = "wangge/static"


def required_vendor_files(root: Path) -> list[str]:
    lines = (root / VENDOR_LIST).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def missing_vendor_files(root: Path) -> list[str]:
    return [name for name in required_vendor_files(root) if not (root / STATIC / name).is_file()]


class FrontEndBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return
        root = Path(self.root)
        self._vendor(root)
        self._compile_messages(root)

    def _vendor(self, root: Path) -> None:
        missing = missing_vendor_files(root)
        if not missing:
            return
        npm = shutil.which("npm")
        if npm is None or shutil.which("node") is None:
            self.app.abort(
                "wangge: 缺少前端文件，且本机没有 Node.js（npm），无法生成：\n"
                "wangge: the front-end files are missing and Node.js (npm) is not installed, "
                "so they cannot be built:\n  "
                + "\n  ".join(f"{STATIC}/{name}" for name in missing[:5])
                + "\nInstall Node.js (≥ 18) and build again, or build from a checkout where "
                "`make setup` has run (it leaves the files in wangge/static/vendor).",
                code=1,
            )
        lock = root / "node_modules" / ".package-lock.json"
        if not lock.exists() or lock.stat().st_mtime < (root / "package-lock.json").stat().st_mtime:
            self.app.display_info("wangge: npm ci (front-end libraries)")
            # npm and sh found on PATH above / by name: the build machine's own tools.
            subprocess.run(  # noqa: S603
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=root, check=True
            )
        self.app.display_info("wangge: scripts/vendor_static.sh")
        subprocess.run(["sh", "scripts/vendor_static.sh"], cwd=root, check=True)  # noqa: S607
        still = missing_vendor_files(root)
        if still:
            self.app.abort(
                "wangge: scripts/vendor_static.sh did not produce "
                + ", ".join(still)
                + f" (update the script or {VENDOR_LIST})",
                code=1,
            )

    def _compile_messages(self, root: Path) -> None:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po in sorted(root.glob("wangge/locale/*/LC_MESSAGES/*.po")):
            mo = po.with_suffix(".mo")
            if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
                continue
            self.app.display_info(f"wangge: compiling {po.relative_to(root)}")
            with po.open("rb") as handle:
                catalog = read_po(handle, locale=po.parent.parent.name)
            with mo.open("wb") as handle:
                # As `make setup` (pybabel compile --use-fuzzy).
                write_mo(handle, catalog, use_fuzzy=True)
