"""One field list per kind of ledger record.

The importers read the columns of `columns.py`; the write services (`services/`), the add and
edit pages and the API's input schemas take the same columns from here, parsed by the same
parsers. Adding a field to Person is one `Column` in `columns.PEOPLE` (plus the model field and
its migration): the importer, `person_create`/`person_update`, the form and `PersonIn` follow.

Columns that place a record (grid code, coordinates, address code) or link it (household,
relation to the head) are not edited as fields: moving and households have their own services.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from wangge.core.tabular import CellError, Column, parse_bool, parse_date, parse_int
from wangge.ledger import columns as cols

# Column key → model attribute, per kind of record (the key is the attribute where omitted).
RECORDS: dict[str, tuple[list[Column], dict[str, str]]] = {
    "person": (cols.PEOPLE, {}),
    "organisation": (cols.ORGANISATIONS, {}),
    "thing": (cols.THINGS, {}),
    "estate": (cols.ADDRESSES, {"estate_name": "name"}),
    "building": (
        cols.ADDRESSES,
        {"building_name": "name", "address": "address", "floors": "floors", "units": "units"},
    ),
    "room": (
        cols.ADDRESSES,
        {"unit": "unit", "number": "number", "floor": "floor", "area_m2": "area_m2", "use": "use"},
    ),
}
# Keys of columns that place or link a record, or identify it for the importer only.
_NOT_FIELDS = {
    "grid_code",
    "lon",
    "lat",
    "room_code",
    "household",
    "relation",
    "estate_code",
    "building_code",
}
# Fields a record gets when it is made and keeps (its identity).
CREATE_ONLY = {"thing": {"code"}}
# Fields only roles with `ledger.sensitive` may read or write (special groups).
SENSITIVE = {"special_tags"}


@dataclass(frozen=True)
class Field:
    key: str  # the input name (the column key)
    attr: str  # the model attribute
    column: Column
    widget: str  # text | date | select | tags | checkbox | number | decimal
    choices: dict[str, str]  # value → label, for select and tags
    create_only: bool = False
    sensitive: bool = False

    @property
    def label(self) -> str:
        return self.column.header

    @property
    def required(self) -> bool:
        return self.column.required


def _widget(column: Column) -> str:
    parse = column.parse
    if parse is None:
        return "text"
    if parse is parse_date:
        return "date"
    if parse is parse_bool:
        return "checkbox"
    if parse is parse_int:
        return "number"
    return str(getattr(parse, "widget", "text"))


def fields(kind: str) -> list[Field]:
    """The editable fields of a kind of record, in the columns' order."""
    columns, attrs = RECORDS[kind]
    wanted = attrs or {c.key: c.key for c in columns if c.key not in _NOT_FIELDS}
    return [
        Field(
            key=c.key,
            attr=wanted[c.key],
            column=c,
            widget=_widget(c),
            choices=dict(getattr(c.parse, "choices", {}) or {}),
            create_only=c.key in CREATE_ONLY.get(kind, set()),
            sensitive=c.key in SENSITIVE,
        )
        for c in columns
        if c.key in wanted
    ]


def field_map(kind: str) -> dict[str, Field]:
    return {f.key: f for f in fields(kind)}


# Attributes that are not columns but change (placement, links, retirement), as people call them.
_OTHER_LABELS = {
    "grid_code": "网格",
    "room": "地址",
    "household": "家庭户",
    "household_id": "家庭户",
    "relation": "与户主关系",
    "head": "户主",
    "head_id": "户主",
    "members": "成员",
    "lon": "经度",
    "lat": "纬度",
    "retired_on": "注销",
    "retired_reason": "注销原因",
    "retired_note": "注销说明",
    "code": "编码",
}


def labels(kind: str, attrs: list[str]) -> list[str]:
    """What people call the changed attributes of a record (the import's headers)."""
    known = {f.attr: f.label for f in fields(kind)} if kind in RECORDS else {}
    out: list[str] = []
    for attr in attrs:
        label = known.get(attr) or _OTHER_LABELS.get(attr)
        if label and label not in out:
            out.append(label)
    return out


@dataclass
class FieldError:
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


def to_cell(value: Any) -> str:
    """A value from a form or JSON as the text a spreadsheet cell would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple | set):
        return "、".join(str(v) for v in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def parse(
    kind: str, raw: dict[str, Any], *, creating: bool
) -> tuple[dict[str, Any], list[FieldError]]:
    """Parse input through the columns' parsers: the same checks as the import.

    Returns the typed values by field key (a blank value clears an optional field) and every
    problem found (unknown field, required and blank, bad value, a field only set at creation).
    """
    known = field_map(kind)
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    for key in sorted(set(raw) - set(known)):
        errors.append(FieldError(key, "unknown_field", _("Unknown field.")))
    for key, field in known.items():
        if key not in raw:
            if creating and field.required:
                errors.append(
                    FieldError(
                        key, "required", _("%(field)s is required.") % {"field": field.label}
                    )
                )
            continue
        if field.create_only and not creating:
            errors.append(
                FieldError(
                    key, "create_only", _("%(field)s cannot be changed.") % {"field": field.label}
                )
            )
            continue
        text = to_cell(raw[key])
        if not text:
            if field.required:
                errors.append(
                    FieldError(
                        key, "required", _("%(field)s is required.") % {"field": field.label}
                    )
                )
            else:
                values[key] = _blank(field)
            continue
        try:
            values[key] = field.column.parse(text) if field.column.parse else text
        except CellError as exc:
            errors.append(FieldError(key, exc.code, exc.message))
    return values, errors


def _blank(field: Field) -> Any:
    if field.widget == "tags":
        return []
    if field.widget == "checkbox":
        return False
    if field.widget in {"date", "number", "decimal"}:
        return None
    return ""


# Person fields the people importer's fast path writes with special handling (encrypted,
# indexed, derived from the ID number, or tags); every other person field is copied as parsed.
PERSON_SPECIAL = {"name", "gender", "birth_date", "id_number", "phone", "care_tags", "special_tags"}


def person_plain_fields() -> list[Field]:
    """The person fields the fast path copies from the parsed row as they are, in order: a
    field added to `columns.PEOPLE` (and the model) is imported with no edit to the importer."""
    return [f for f in fields("person") if f.key not in PERSON_SPECIAL]


def blank_value(model: Any, f: Field) -> Any:
    """What an empty cell stores: the model field's default (population type "1", "" …)."""
    return model._meta.get_field(f.attr).get_default()
