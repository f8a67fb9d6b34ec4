"""`save()` names what it writes: `update_fields` for an update (a concurrent change to another
column is not overwritten), `force_insert` for a new row. Checked over the code, not the tests."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_save_names_its_fields() -> None:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if "tests" in rel.parts or "migrations" in rel.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "save"
                and not node.args
                and not {k.arg for k in node.keywords} & {"update_fields", "force_insert"}
            ):
                found.append(f"{rel}:{node.lineno}")
    assert found == [], "save() without update_fields or force_insert: " + ", ".join(found)
