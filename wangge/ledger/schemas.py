"""The API's input schemas of ledger records, made from the one field list (fields.py): a field
added to a kind of record appears in its create and update schemas with no edit here."""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema
from pydantic import create_model

from wangge.ledger.fields import Field as LedgerField
from wangge.ledger.fields import fields

_TYPES: dict[str, Any] = {
    "text": str,
    "select": str,
    "date": str,
    "checkbox": bool,
    "number": int,
    "decimal": float,
    "tags": list[str],
}


def _describe(f: LedgerField) -> str:
    text = f.label
    if f.choices:
        text += ": " + ", ".join(f"{value} ({label})" for value, label in f.choices.items())
    if f.widget == "date":
        text += " (2024-04-19)"
    if f.sensitive:
        text += " — needs ledger.sensitive"
    return text


def record_schema(
    kind: str, name: str, *, partial: bool, extra: dict[str, Any] | None = None
) -> Any:
    """A pydantic schema of `kind`'s fields: required ones required unless `partial` (updates
    name only what they change); `extra` adds fields that are not record fields (placement)."""
    spec: dict[str, Any] = {}
    for f in fields(kind):
        if partial and f.create_only:
            continue
        kind_type = _TYPES[f.widget]
        required = f.required and not partial
        spec[f.key] = (
            kind_type if required else kind_type | None,
            Field(... if required else None, description=_describe(f)),
        )
    spec.update(extra or {})
    return create_model(name, __base__=Schema, **spec)


def values_of(payload: Schema, *, exclude: set[str]) -> dict[str, Any]:
    """The record fields a request sent (unset ones are not changes)."""
    return {k: v for k, v in payload.dict(exclude_unset=True).items() if k not in exclude}
