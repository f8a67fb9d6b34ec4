"""No place where data reaches the DOM as HTML (security finding 1), and nothing the
Content-Security-Policy would refuse: checked over the sources, so a new sink fails here before
it reaches a browser. (tests/browser/test_xss.py shows the same in Chromium, with payloads.)"""

from __future__ import annotations

import re
from pathlib import Path

import wangge

ROOT = Path(wangge.__file__).parent
TEMPLATES = sorted(ROOT.glob("**/templates/**/*.html"))
SCRIPTS = sorted((ROOT / "static" / "wangge").glob("*.js"))
PYTHON = sorted(p for p in ROOT.glob("**/*.py") if "tests" not in p.parts)

TEMPLATE_SINKS = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "inline style": re.compile(r"<style|\sstyle=", re.IGNORECASE),
    "inline handler": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
    "unescaped output": re.compile(r"\|\s*safe\b|autoescape\s+off"),
}
SCRIPT_SINKS = {
    "HTML string into the DOM": re.compile(
        r"\.(innerHTML|outerHTML)\s*=(?!\s*\"\")|insertAdjacentHTML|document\.write"
    ),
    # Leaflet sets a string tooltip or popup as innerHTML: give it a function or a node.
    "Leaflet HTML content": re.compile(r"\.(bindTooltip|bindPopup|setContent)\((?!function)"),
    "eval": re.compile(r"\beval\(|new Function\(|setTimeout\(\s*[\"']"),
}
PYTHON_SINKS = re.compile(r"\bmark_safe\b|\bSafeString\b|\bformat_html\b|\|safe\b")


def findings(paths: list[Path], patterns: dict[str, re.Pattern[str]]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{number}: {name}"
        for path in paths
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for name, pattern in patterns.items()
        if pattern.search(line)
    ]


def test_the_sources_are_found() -> None:
    names = {p.name for p in TEMPLATES} | {p.name for p in SCRIPTS}
    assert {"base.html", "card.html", "detail.html", "events.js", "map.js"} <= names


def test_templates_have_no_inline_script_or_style_and_escape_everything() -> None:
    assert findings(TEMPLATES, TEMPLATE_SINKS) == []


def test_scripts_put_text_into_the_page_as_text() -> None:
    assert findings(SCRIPTS, SCRIPT_SINKS) == []


def test_python_marks_nothing_safe() -> None:
    assert findings(PYTHON, {"marked safe": PYTHON_SINKS}) == []
