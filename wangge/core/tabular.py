"""The tabular import/export framework every module's spreadsheet import uses.

Read CSV (UTF-8, UTF-8 with BOM, GB18030) or XLSX; match Chinese headers with aliases; parse
typed cells; collect row errors with the row number as the spreadsheet shows it (header = 1);
account for every row (inserted + updated + skipped + rejected = rows read; blank rows are not
rows); enforce size and row limits; write exports that a spreadsheet cannot run as formulas.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from wangge.core.errors import ValidationFailed

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


@dataclass
class Table:
    """A sheet: its header row and an iterator of (row number, cells) for non-blank rows."""

    headers: list[str]
    rows: Iterator[tuple[int, list[Any]]]
    sheet: str = ""
    source: Path | None = None  # the CSV file, when the rows stream from one
    encoding: str = ""


def _header_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text or ""))
    return re.sub(r"[\s*＊:：()（）]", "", text).lower()


def _blank(cells: list[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _check_size(data: bytes, *, size: int | None = None) -> None:
    limit = settings.IMPORT_MAX_BYTES
    size = len(data) if size is None else size
    if size > limit:
        raise ValidationFailed(
            _("The file is %(size).1f MB; at most %(limit)d MB can be imported at once.")
            % {"size": size / 1048576, "limit": limit // 1048576},
            code="file_too_large",
        )


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (what Excel on Chinese Windows saves)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ValidationFailed(
            _("The file is neither UTF-8 nor GB18030 text."), code="bad_encoding"
        ) from None


def _unreadable(row: int) -> ValidationFailed:
    return ValidationFailed(
        _(
            "Row %(row)d cannot be read: a cell is longer than %(limit)d characters. "
            "Is a quotation mark left open?"
        )
        % {"row": row, "limit": csv.field_size_limit()},
        code="bad_csv",
        details={"row": row},
    )


def csv_rows(reader: Iterator[list[str]], *, first: int = 2) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of a CSV reader's non-blank rows, numbered from `first`.

    The csv module refuses a cell longer than its field limit (131,072 characters), most often
    a quotation mark left open that runs the rest of the file into one cell: that is the
    file's error, named by its row, not a crash."""
    number = first - 1
    try:
        for number, row in enumerate(reader, start=first):
            if not _blank(row):
                yield number, row
    except csv.Error:
        raise _unreadable(number + 1) from None


def _csv_header(reader: Iterator[list[str]]) -> list[str]:
    try:
        header = next(reader, None)
    except csv.Error:
        raise _unreadable(1) from None
    if header is None:
        raise ValidationFailed(_("The file is empty."), code="empty_file")
    return [h.strip() for h in header]


def read_csv(data: bytes) -> Table:
    _check_size(data)
    reader = csv.reader(io.StringIO(decode_text(data), newline=""))
    headers = _csv_header(reader)
    return Table(headers=headers, rows=csv_rows(reader))


def read_csv_path(path: str | Path) -> Table:
    """Stream a CSV file from disk (constant memory): the encoding is decided on its start."""
    path = Path(path)
    size = path.stat().st_size
    if size > settings.IMPORT_MAX_BYTES:
        _check_size(b"", size=size)
    with path.open("rb") as probe:
        head = probe.read(1 << 16)
    if head.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    else:
        try:
            head.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError as exc:
            # A multi-byte character cut at the end of the probe is still UTF-8.
            encoding = "utf-8" if exc.start >= len(head) - 3 else "gb18030"
    handle = path.open(encoding=encoding, newline="")
    reader = csv.reader(handle)
    try:
        headers = _csv_header(reader)
    except UnicodeDecodeError:
        handle.close()
        raise ValidationFailed(
            _("The file is neither UTF-8 nor GB18030 text."), code="bad_encoding"
        ) from None
    except ValidationFailed:
        handle.close()
        raise

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            yield from csv_rows(reader)
        except UnicodeDecodeError:
            raise ValidationFailed(
                _("The file is neither UTF-8 nor GB18030 text."), code="bad_encoding"
            ) from None
        finally:
            handle.close()

    return Table(headers=headers, rows=rows(), source=path, encoding=encoding)


def read_xlsx(data: bytes, *, sheet: str | None = None) -> Table:
    _check_size(data)
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise ValidationFailed(
            _("The file cannot be opened as an Excel workbook (.xlsx): %(error)s")
            % {"error": type(exc).__name__},
            code="bad_workbook",
        ) from None
    if sheet is not None and sheet not in workbook.sheetnames:
        raise ValidationFailed(
            _("The workbook has no sheet named %(sheet)s.") % {"sheet": sheet},
            code="missing_sheet",
        )
    ws = workbook[sheet] if sheet is not None else workbook.worksheets[0]
    iterator = ws.iter_rows()
    header_cells = next(iterator, None)
    if header_cells is None:
        raise ValidationFailed(_("The sheet is empty."), code="empty_file")
    headers = [str(c.value).strip() if c.value is not None else "" for c in header_cells]
    while headers and headers[-1] == "":
        headers.pop()

    def rows() -> Iterator[tuple[int, list[Any]]]:
        for cells in iterator:
            values: list[Any] = []
            for c in cells[: len(headers)]:
                if getattr(c, "data_type", None) == "f":
                    values.append(Formula(str(c.value)))
                else:
                    values.append(c.value)
            if not values or _blank(values):
                continue
            number = cells[0].row if cells and hasattr(cells[0], "row") else 0
            yield number, values
        workbook.close()

    return Table(headers=headers, rows=rows(), sheet=ws.title)


class Formula(str):
    """A cell holding a formula: never evaluated, always an error."""


def read_table_path(path: str | Path, *, sheet: str | None = None) -> Table:
    """A table from a file on disk; CSV is streamed, XLSX read in openpyxl's read-only mode."""
    path = Path(path)
    with path.open("rb") as probe:
        magic = probe.read(2)
    if path.suffix.lower() == ".xlsx" or magic == b"PK":
        _check_size(b"", size=path.stat().st_size)
        return read_xlsx(path.read_bytes(), sheet=sheet)
    if path.suffix.lower() in {".csv", ".txt", ""}:
        return read_csv_path(path)
    raise ValidationFailed(
        _("Only .xlsx and .csv files can be imported, not %(name)s.") % {"name": path.name},
        code="bad_file_type",
    )


def read_table(data: bytes, filename: str, *, sheet: str | None = None) -> Table:
    name = filename.lower()
    if name.endswith(".xlsx") or data[:2] == b"PK":
        return read_xlsx(data, sheet=sheet)
    if name.endswith((".csv", ".txt")) or not name:
        return read_csv(data)
    raise ValidationFailed(
        _("Only .xlsx and .csv files can be imported, not %(name)s.") % {"name": filename},
        code="bad_file_type",
    )


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
    """Parse every non-blank row, enforcing the row limit."""
    mapping = match_headers(table.headers, columns)
    plan = RowPlan.make(columns, mapping)
    limit = settings.IMPORT_MAX_ROWS
    for count, (number, cells) in enumerate(table.rows, start=1):
        if count > limit:
            raise ValidationFailed(
                _("The file has more than %(limit)d rows; split it into smaller files.")
                % {"limit": limit},
                code="too_many_rows",
            )
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


# -- export -----------------------------------------------------------------------------------


def safe_cell(value: Any) -> Any:
    """A value a spreadsheet will show, never run: text starting like a formula gets a '."""
    if isinstance(value, str) and _needs_escape(value):
        return "'" + value
    return value


def write_xlsx(sheets: list[tuple[str, list[str], list[list[Any]]]]) -> bytes:
    """A workbook of (title, headers, rows); every text cell is written as text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    for title, headers, rows in sheets:
        ws = workbook.create_sheet(title=title)
        from openpyxl.cell import WriteOnlyCell

        header_cells = []
        for h in headers:
            cell = WriteOnlyCell(ws, value=safe_cell(h))
            cell.font = Font(bold=True)
            header_cells.append(cell)
        ws.append(header_cells)
        for row in rows:
            out = []
            for value in row:
                cell = WriteOnlyCell(ws, value=safe_cell(value))
                if isinstance(value, str):
                    cell.data_type = "s"
                out.append(cell)
            ws.append(out)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@dataclass
class RejectedRows:
    """The rejected rows of one sheet, kept for the error file."""

    sheet: str
    headers: list[str]
    rows: list[ParsedRow] = field(default_factory=list)


def error_workbook(sheets: list[RejectedRows]) -> bytes:
    """The rejected rows as they were, with their row number and the reasons: fix, re-import."""
    reason = _("Reason")
    source_row = _("Row in the original file")
    out = []
    for sheet in sheets:
        rows = []
        for row in sheet.rows:
            texts = [cell_text(c) for c in row.cells] + [""] * (len(sheet.headers) - len(row.cells))
            reasons = "；".join(
                f"{e.column}：{e.message}" if e.column else e.message for e in row.errors
            )
            rows.append([*texts[: len(sheet.headers)], row.number, reasons])
        out.append((sheet.sheet, [*sheet.headers, source_row, reason], rows))
    return write_xlsx(out)
