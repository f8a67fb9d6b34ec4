"""Rows in, values out: columns with Chinese headers and aliases, typed cells, row errors.

Rows are numbered as the spreadsheet shows them (header = 1); every row is accounted for
(inserted + updated + skipped + rejected = rows read; blank rows are not rows).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from wangge.core.errors import ValidationFailed
from wangge.core.tabular.read import Formula, Table

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


class CellError(Exception):
    """A cell's value cannot be used. `code` is stable, `message` is for a grid worker."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    parse: Callable[[str], Any] | None = None
    example: str = ""
    help: str = ""

    def names(self) -> set[str]:
        return {_header_key(h) for h in (self.header, *self.aliases)}


@dataclass
class RowError:
    row: int
    column: str
    code: str
    message: str
    sheet: str = ""

    def as_dict(self) -> dict[str, Any]:
        data = {"row": self.row, "column": self.column, "code": self.code, "message": self.message}
        if self.sheet:
            data["sheet"] = self.sheet
        return data


@dataclass
class ImportResult:
    total: int = 0
    inserted: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: int = 0
    dry_run: bool = False
    stored: bool = False
    errors: list[RowError] = field(default_factory=list)

    def add_errors(self, errors: list[RowError]) -> None:
        self.errors.extend(errors)

    def balanced(self) -> bool:
        return self.inserted + self.updated + self.skipped + self.rejected == self.total

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "inserted": self.inserted,
            "updated": self.updated,
            "skipped": self.skipped,
            "rejected": self.rejected,
            "dry_run": self.dry_run,
            "stored": self.stored,
            "errors": [e.as_dict() for e in self.errors],
        }


def _header_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text or ""))
    return re.sub(r"[\s*＊:：()（）]", "", text).lower()


def match_headers(headers: list[str], columns: list[Column]) -> dict[str, int]:
    """Map column keys to positions. Raises with every missing, unknown or repeated header."""
    wanted = {name: col for col in columns for name in col.names()}
    mapping: dict[str, int] = {}
    unknown: list[str] = []
    repeated: list[str] = []
    for position, header in enumerate(headers):
        if not header:
            continue
        col = wanted.get(_header_key(header))
        if col is None:
            unknown.append(header)
        elif col.key in mapping:
            repeated.append(header)
        else:
            mapping[col.key] = position
    missing = [c.header for c in columns if c.required and c.key not in mapping]
    if missing or unknown or repeated:
        parts = []
        if missing:
            parts.append(_("missing columns: %(cols)s") % {"cols": "、".join(missing)})
        if unknown:
            parts.append(_("unknown columns: %(cols)s") % {"cols": "、".join(unknown)})
        if repeated:
            parts.append(_("columns given twice: %(cols)s") % {"cols": "、".join(repeated)})
        raise ValidationFailed(
            _("The header row (row 1) does not match the template: %(parts)s.")
            % {"parts": "；".join(parts)},
            code="bad_header",
            details={"missing": missing, "unknown": unknown, "repeated": repeated},
        )
    return mapping


def cell_text(value: Any) -> str:
    """A cell as text: numbers without '.0', dates as ISO, a leading apostrophe dropped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    if text.startswith("'") and _needs_escape(text[1:]):
        text = text[1:]
    return text


def _needs_escape(text: str) -> bool:
    """Text a spreadsheet could run as a formula, or text that would read back as escaped
    (an apostrophe before such text): `safe_cell` escapes exactly these, `cell_text` undoes it,
    so every value round-trips."""
    while text.startswith("'"):
        text = text[1:]
    return text.startswith(FORMULA_TRIGGERS)


@dataclass(frozen=True)
class RowPlan:
    """Which columns a file has, worked out once per file instead of once per row."""

    present: tuple[tuple[Column, int], ...]
    missing_required: tuple[Column, ...]
    absent: dict[str, None]

    @classmethod
    def make(cls, columns: list[Column], mapping: dict[str, int]) -> RowPlan:
        return cls(
            present=tuple((c, mapping[c.key]) for c in columns if c.key in mapping),
            missing_required=tuple(c for c in columns if c.required and c.key not in mapping),
            absent=dict.fromkeys(c.key for c in columns if c.key not in mapping),
        )


def parse_row(
    number: int,
    cells: list[Any],
    columns: list[Column],
    mapping: dict[str, int],
    plan: RowPlan | None = None,
) -> tuple[dict[str, Any], list[RowError]]:
    plan = plan or RowPlan.make(columns, mapping)
    values: dict[str, Any] = dict(plan.absent)
    errors: list[RowError] = [
        RowError(number, c.header, "required", _("This column must be filled in."))
        for c in plan.missing_required
    ]
    size = len(cells)
    for col, position in plan.present:
        raw = cells[position] if position < size else None
        if raw is None or raw == "":
            if col.required:
                errors.append(
                    RowError(number, col.header, "required", _("This column must be filled in."))
                )
            values[col.key] = None
            continue
        if isinstance(raw, Formula):
            errors.append(
                RowError(
                    number,
                    col.header,
                    "formula",
                    _("The cell holds a formula (%(f)s); enter the value itself.")
                    % {"f": str(raw)[:40]},
                )
            )
            continue
        text = raw.strip() if type(raw) is str and raw[:1] != "'" else cell_text(raw)
        if not text:
            if col.required:
                errors.append(
                    RowError(number, col.header, "required", _("This column must be filled in."))
                )
            values[col.key] = None
            continue
        try:
            values[col.key] = col.parse(text) if col.parse else text
        except CellError as exc:
            errors.append(RowError(number, col.header, exc.code, exc.message))
    return values, errors


@dataclass
class ParsedRow:
    number: int  # as the spreadsheet shows it (header = 1)
    cells: list[Any]  # the row as read, for the error file
    values: dict[str, Any]
    errors: list[RowError]


def iter_parsed(table: Table, columns: list[Column]) -> Iterator[ParsedRow]:
    """Parse every non-blank row (the reader has held the table to the row limit)."""
    mapping = match_headers(table.headers, columns)
    plan = RowPlan.make(columns, mapping)
    for number, cells in table.rows:
        values, errors = parse_row(number, cells, columns, mapping, plan)
        yield ParsedRow(number, cells, values, errors)


# -- typed parsers ----------------------------------------------------------------------------


def parse_choice(choices: dict[str, str]) -> Callable[[str], str]:
    """Accept a label or a value; `choices` maps every accepted spelling to the stored value."""
    keys = {_header_key(k): v for k, v in choices.items()}

    def parse(text: str) -> str:
        found = keys.get(_header_key(text))
        if found is None:
            labels = "、".join(dict.fromkeys(choices))
            raise CellError(
                "invalid_choice",
                _("%(value)s is not one of: %(choices)s.") % {"value": text, "choices": labels},
            )
        return found

    return parse


def parse_date(text: str) -> dt.date:
    cleaned = unicodedata.normalize("NFKC", text).strip()
    cleaned = re.sub(r"[年月/.]", "-", cleaned).replace("日", "")
    cleaned = cleaned.split("T")[0].split(" ")[0]
    try:
        return dt.date.fromisoformat("-".join(p.zfill(2) for p in cleaned.split("-")))
    except ValueError:
        raise CellError(
            "invalid_date", _("%(value)s is not a date like 2024-04-19.") % {"value": text}
        ) from None


def parse_bool(text: str) -> bool:
    return (
        parse_choice({"是": "1", "否": "0", "true": "1", "false": "0", "1": "1", "0": "0"})(text)
        == "1"
    )


def parse_int(text: str) -> int:
    try:
        return int(unicodedata.normalize("NFKC", text).replace(",", ""))
    except ValueError:
        raise CellError(
            "invalid_number", _("%(value)s is not a whole number.") % {"value": text}
        ) from None
