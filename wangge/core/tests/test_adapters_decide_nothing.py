"""Adapters translate; services and selectors decide.

Views, API handlers, Open311, CLI commands, forms and context processors turn a request into a
call and the answer (or the error) back. Who may do what, and what is in scope, is decided
inside the services and selectors, so the page and the API can never disagree. This test reads
every adapter's source and fails on a permission or scope decision made there, or on a model
queried directly (that read belongs in a selector, where the scope is applied).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

ADAPTER_NAMES = {"views.py", "api.py", "api_routes.py", "open311.py", "forms.py", "urls.py"}
ADAPTER_NAMES |= {"context_processors.py", "open311_urls.py"}

# Attribute calls that decide permission or scope, or query models directly.
FORBIDDEN_ATTRIBUTES = {
    "has": "a permission check",
    "holds": "a permission check",
    "holds_for": "a permission check",
    "covers": "a scope check",
    "require_for": "a permission check",
    "grants_for": "a look at the grants",
    "roots": "a look at the grants",
    "is_system": "a look at the scope",
    "visible_to": "a scoped query",
    "dangerously_unscoped": "an unscoped query",
    "objects": "a model queried directly (use a selector)",
    "_base_manager": "a model queried directly (use a selector)",
}
# Names an adapter may not use at all.
FORBIDDEN_NAMES = {
    "Perm": "a permission named in an adapter",
    "scope_requiring": "a permission check",
    "require_any": "a permission check",
    "ROLE_PERMISSIONS": "a permission table read in an adapter",
    "role_has": "a permission check",
}


def adapter_files() -> list[Path]:
    files = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if "tests" in rel.parts or "migrations" in rel.parts:
            continue
        if path.name in ADAPTER_NAMES or {"commands", "views", "api"} & set(rel.parts[:-1]):
            files.append(path)
    return files


def violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    rel = path.relative_to(ROOT.parent)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES:
            found.append(f"{rel}:{node.lineno} .{node.attr}: {FORBIDDEN_ATTRIBUTES[node.attr]}")
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            found.append(f"{rel}:{node.lineno} {node.id}: {FORBIDDEN_NAMES[node.id]}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                if alias.name in FORBIDDEN_NAMES:
                    found.append(f"{rel}:{node.lineno} imports {alias.name}")
    return found


def test_there_are_adapters_to_check() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in adapter_files()}
    assert {"ledger/views/people.py", "events/api.py", "events/open311.py"} <= names


def test_no_adapter_decides_a_rule() -> None:
    found = [v for path in adapter_files() for v in violations(path)]
    assert found == [], "\n".join(found)
