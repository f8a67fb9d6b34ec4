"""Workbooks out: exports whose text cells a spreadsheet shows and never runs, and the error
workbook (the rejected rows as they were, with their row number and the reasons)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from wangge.core.tabular.parse import ParsedRow, _needs_escape, cell_text


def safe_cell(value: Any) -> Any:
    """A value a spreadsheet will show, never run: text starting like a formula gets a '."""
    if isinstance(value, str) and _needs_escape(value):
        return "'" + value
    return value


def write_xlsx(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    """A workbook of (title, headers, rows); every text cell is written as text. The rows may
    be a generator: a write-only workbook holds none of them."""
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


def join_reasons(reasons: Iterable[str]) -> str:
    """Sentences joined as one: "姓名：必填；身份证号：校验位不对。" (not "必填。；…")."""
    parts = [r.strip().rstrip("。.；;") for r in reasons if r.strip()]
    return "；".join(parts) + "。" if parts else ""


def error_workbook(sheets: list[RejectedRows]) -> bytes:
    """The rejected rows as they were, with their row number and the reasons: fix, re-import."""
    reason = _("Reason")
    source_row = _("Row in the original file")
    out = []
    for sheet in sheets:
        rows = []
        for row in sheet.rows:
            texts = [cell_text(c) for c in row.cells] + [""] * (len(sheet.headers) - len(row.cells))
            reasons = join_reasons(
                f"{e.column}：{e.message}" if e.column else e.message for e in row.errors
            )
            rows.append([*texts[: len(sheet.headers)], row.number, reasons])
        out.append((sheet.sheet, [*sheet.headers, source_row, reason], rows))
    return write_xlsx(out)
