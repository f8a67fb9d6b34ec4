"""Files in, tables out: CSV (UTF-8, UTF-8 with BOM, GB18030) and XLSX, within the limits.

Every limit is checked before a parser sees the file, so an upload cannot make the process
that reads it grow past them:

- the file size (`WANGGE_IMPORT_MAX_MB`);
- for a workbook, its zip directory: the total uncompressed size
  (`WANGGE_IMPORT_MAX_UNCOMPRESSED_MB`), the number of parts and each large part's compression
  ratio (a zip bomb is refused before openpyxl opens it). Python's zipfile never inflates a part
  past the size its directory declares, so the directory is a bound, not a hint;
- the number of rows (`WANGGE_IMPORT_MAX_ROWS`), counted by a streaming pass before the first
  row is handed out: an import over the limit is refused whole instead of stopping halfway
  with the first batches stored. The pass is a byte count (CSV line ends, workbook row tags);
  only when that bound is over the limit are the rows themselves counted.

Rows are then streamed (csv.reader over the file, openpyxl in read-only mode), never held as a
whole sheet. For a CSV without double quotes, `csv_ranges` cuts the file at line ends so that
parsing processes can read their own slices (`read_csv_range`) with the same rules.
"""

from __future__ import annotations

import codecs
import csv
import io
import mmap
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _

from wangge.core.errors import ValidationFailed

CHUNK = 1 << 20
# A legitimate workbook part compresses 5–20×: row numbers and cell references change on every
# line. Deflate tops out near 1,000×, which only padding reaches.
MAX_RATIO = 100
RATIO_FLOOR = 1 << 20  # parts smaller than this are not worth measuring
MAX_PARTS = 1000  # a workbook has a dozen parts, plus two or three per sheet
EXCEL_MAX_ROW = 1_048_576  # openpyxl fills gaps up to a row's number: a bigger one is a trap


@dataclass
class Table:
    """A sheet: its header row and an iterator of (row number, cells) for non-blank rows.
    A table never has more rows than the limit it was read with."""

    headers: list[str]
    rows: Iterator[tuple[int, list[Any]]]
    sheet: str = ""
    source: Path | None = None  # the CSV file, when the rows stream from one
    encoding: str = ""
    lines: int = 0  # physical lines of that file
    sliceable: bool = False  # no quotes and no bare CR: line ends are row ends


class Formula(str):
    """A cell holding a formula: never evaluated, always an error."""


def _blank(cells: Iterable[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


# -- limits -----------------------------------------------------------------------------------


def check_size(size: int) -> None:
    """Refuse a file over `WANGGE_IMPORT_MAX_MB` (call it before reading an upload)."""
    limit = settings.IMPORT_MAX_BYTES
    if size > limit:
        raise ValidationFailed(
            _("The file is %(size).1f MB; at most %(limit)d MB can be imported at once.")
            % {"size": size / 1048576, "limit": limit // 1048576},
            code="file_too_large",
        )


def upload_bytes(upload: Any) -> bytes:
    """The content of an uploaded file, refused by its size before it is read into memory."""
    check_size(upload.size or 0)
    data: bytes = upload.read()
    check_size(len(data))
    return data


def _row_limit(max_rows: int | None) -> int:
    return settings.IMPORT_MAX_ROWS if max_rows is None else min(max_rows, settings.IMPORT_MAX_ROWS)


def _too_many_rows(limit: int) -> ValidationFailed:
    return ValidationFailed(
        _(
            "The file has more than %(limit)d rows, the most one import takes; nothing was "
            "imported. Split it into files of at most %(limit)d rows each."
        )
        % {"limit": limit},
        code="too_many_rows",
        details={"limit": limit},
    )


def _count_rows(rows: Iterable[Iterable[Any]], limit: int) -> None:
    """Count non-blank rows, stopping at the first one over the limit."""
    count = 0
    for cells in rows:
        if not _blank(cells):
            count += 1
            if count > limit:
                raise _too_many_rows(limit)


def _bad_encoding() -> ValidationFailed:
    return ValidationFailed(_("The file is neither UTF-8 nor GB18030 text."), code="bad_encoding")


def _bad_csv(line: int, exc: csv.Error) -> ValidationFailed:
    if "field limit" in str(exc):
        # Most often a quotation mark left open that runs the rest of the file into one cell.
        return ValidationFailed(
            _(
                "Row %(row)d cannot be read: a cell is longer than %(limit)d characters. "
                "Is a quotation mark left open?"
            )
            % {"row": line, "limit": csv.field_size_limit()},
            code="bad_csv",
            details={"row": line},
        )
    return ValidationFailed(
        _("Line %(line)d cannot be read as CSV: %(error)s.") % {"line": line, "error": exc},
        code="bad_csv",
    )


def _bad_workbook(exc: BaseException | str) -> ValidationFailed:
    name = exc if isinstance(exc, str) else type(exc).__name__
    return ValidationFailed(
        _("The file cannot be opened as an Excel workbook (.xlsx): %(error)s") % {"error": name},
        code="bad_workbook",
    )


def _workbook_too_large(reason: str) -> ValidationFailed:
    return ValidationFailed(
        _(
            "The workbook was refused before it was opened: %(reason)s. Save it again as a "
            "plain .xlsx (or .csv) of the data only."
        )
        % {"reason": reason},
        code="workbook_too_large",
    )


def check_workbook(archive: zipfile.ZipFile) -> None:
    """Refuse a workbook whose zip directory promises more than an import may unpack."""
    parts = archive.infolist()
    if len(parts) > MAX_PARTS:
        raise _workbook_too_large(
            _("it has %(n)d parts, more than %(limit)d") % {"n": len(parts), "limit": MAX_PARTS}
        )
    total = sum(p.file_size for p in parts)
    limit = settings.IMPORT_MAX_UNCOMPRESSED_BYTES
    if total > limit:
        raise _workbook_too_large(
            _("it unpacks to %(size)d MB, more than %(limit)d MB")
            % {"size": total // 1048576, "limit": limit // 1048576}
        )
    for part in parts:
        if part.file_size > RATIO_FLOOR and part.file_size > MAX_RATIO * part.compress_size:
            raise _workbook_too_large(
                _("its part %(name)s is compressed %(ratio)d times, more than data can be")
                % {
                    "name": part.filename[:80],
                    "ratio": part.file_size // max(part.compress_size, 1),
                }
            )


# A row tag and its number if it has one; the rare tags with a namespace prefix apart (a literal
# start keeps the first one fast).
_ROW_TAG = re.compile(rb"""<row\b(?:[^>]*?\sr\s*=\s*["'](\d+)["'])?[^>]*>""")
_PREFIXED_ROW_TAG = re.compile(rb"""<[\w.-]+:row\b(?:[^>]*?\sr\s*=\s*["'](\d+)["'])?[^>]*>""")


def _row_tags(stream: IO[bytes]) -> int:
    """Row tags after the header row in a worksheet part, streamed: an upper bound of its rows.
    Refuses a row number past Excel's last row (openpyxl would fill the gap row by row)."""
    count = 0
    tail = b""
    while True:
        chunk = stream.read(CHUNK)
        if not chunk and not tail:
            return count
        buffer = tail + chunk
        last = buffer.rfind(b"<")
        if chunk and last != -1 and buffer.find(b">", last) == -1:
            # An unfinished tag: keep it for the next chunk (a row tag is short; a longer one
            # is something else, dropped so the tail stays small).
            scan, tail = buffer[:last], (buffer[last:] if len(buffer) - last < 65536 else b"")
        else:
            scan, tail = buffer, b""
        numbers: list[bytes] = _ROW_TAG.findall(scan)
        if b":row" in scan:
            numbers += _PREFIXED_ROW_TAG.findall(scan)
        count += len(numbers) - numbers.count(b"1")  # row 1 is the header
        given = [n.lstrip(b"0") or b"0" for n in numbers if n]
        if given and (
            max(map(len, given)) > len(str(EXCEL_MAX_ROW)) or max(map(int, given)) > EXCEL_MAX_ROW
        ):
            raise _bad_workbook(_("row numbers past Excel's last row"))
        if not chunk:
            return count


# -- CSV --------------------------------------------------------------------------------------


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
        raise _bad_encoding() from None


def _sniff_encoding(head: bytes) -> str:
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the probe is still UTF-8.
        return "utf-8" if exc.start >= len(head) - 3 else "gb18030"
    return "utf-8"


@dataclass
class _Survey:
    lines: int = 0
    sliceable: bool = True


def _survey(chunks: Iterable[bytes], encoding: str) -> _Survey:
    """One pass over the bytes: every byte decodes in `encoding` (so a bad one stops the import
    before it starts, not halfway), the number of line ends, and whether line ends are row ends.
    CR, LF and double quotes are single bytes in UTF-8 and GB18030 alike."""
    decoder = codecs.getincrementaldecoder(encoding)()
    survey = _Survey()
    lf = cr = crlf = 0
    last = b""
    try:
        for chunk in chunks:
            decoder.decode(chunk)
            lf += chunk.count(b"\n")
            cr += chunk.count(b"\r")
            crlf += chunk.count(b"\r\n") + (last == b"\r" and chunk[:1] == b"\n")
            if survey.sliceable and b'"' in chunk:
                survey.sliceable = False
            last = chunk[-1:]
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise _bad_encoding() from None
    # csv.reader ends a row at LF, CR LF or a bare CR: this counts each of them once.
    survey.lines = lf + cr - crlf + (1 if last not in (b"", b"\n", b"\r") else 0)
    survey.sliceable = survey.sliceable and cr == crlf
    return survey


def _csv_rows(reader: Any) -> Iterator[Any]:
    """csv.reader's rows, with its errors in the words a grid worker reads (naming the line
    where the unreadable record starts: an open quotation mark runs on to the file's end)."""
    starts = 1
    try:
        for row in reader:
            yield row
            starts = reader.line_num + 1
    except UnicodeDecodeError:
        raise _bad_encoding() from None
    except csv.Error as exc:
        raise _bad_csv(starts, exc) from None


def read_csv(data: bytes, *, max_rows: int | None = None) -> Table:
    check_size(len(data))
    text = decode_text(data)
    limit = _row_limit(max_rows)
    if data.count(b"\n") + data.count(b"\r") > limit:  # an upper bound: count the rows
        rows_read = _csv_rows(csv.reader(io.StringIO(text, newline="")))
        next(rows_read, None)
        _count_rows(rows_read, limit)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(_csv_rows(reader), None)
    if header is None:
        raise ValidationFailed(_("The file is empty."), code="empty_file")

    def rows() -> Iterator[tuple[int, list[Any]]]:
        for number, row in enumerate(_csv_rows(reader), start=2):
            if not _blank(row):
                yield number, row

    return Table(headers=[h.strip() for h in header], rows=rows())


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def read_csv_path(path: str | Path, *, max_rows: int | None = None) -> Table:
    """Stream a CSV file from disk (constant memory): the encoding is decided on its start and
    checked, with the row limit, by one pass over the bytes before the first row is read."""
    path = Path(path)
    check_size(path.stat().st_size)
    with path.open("rb") as probe:
        encoding = _sniff_encoding(probe.read(1 << 16))
    survey = _survey(_file_chunks(path), encoding)
    limit = _row_limit(max_rows)
    if survey.lines - 1 > limit:  # an upper bound: count the rows themselves
        with path.open(encoding=encoding, newline="") as handle:
            rows_read = _csv_rows(csv.reader(handle))
            next(rows_read, None)
            _count_rows(rows_read, limit)
    handle = path.open(encoding=encoding, newline="")
    reader = csv.reader(handle)
    try:
        header = next(_csv_rows(reader), None)
    except ValidationFailed:
        handle.close()
        raise
    if header is None:
        handle.close()
        raise ValidationFailed(_("The file is empty."), code="empty_file")

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for number, row in enumerate(_csv_rows(reader), start=2):
                if not _blank(row):
                    yield number, row
        finally:
            handle.close()

    return Table(
        headers=[h.strip() for h in header],
        rows=rows(),
        source=path,
        encoding=encoding,
        lines=survey.lines,
        sliceable=survey.sliceable,
    )


@dataclass(frozen=True)
class CsvRange:
    """A slice of a CSV file that starts and ends at line ends (sent to parsing processes)."""

    path: str
    encoding: str
    start: int
    end: int
    first_row: int  # the row number of its first line (header = 1)


def csv_ranges(table: Table, *, rows: int) -> Iterator[CsvRange] | None:
    """Slices of about `rows` rows of the table's CSV file, or None when its rows cannot be cut
    at line ends (not a file, or a double quote somewhere: a quoted field may hold a line
    break). Call it before reading the table's rows."""
    if table.source is None or not table.sliceable or table.lines < 2:
        return None
    path = table.source
    size = path.stat().st_size
    step = max(4096, rows * size // table.lines)
    with path.open("rb") as handle:
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        header_end = mapped.find(b"\n") + 1
        if header_end <= 0:
            return None
        ranges = []
        position, line = header_end, 2
        while position < size:
            end = min(position + step, size)
            if end < size:
                newline = mapped.find(b"\n", end)
                end = size if newline == -1 else newline + 1
            ranges.append(CsvRange(str(path), table.encoding, position, end, line))
            line += mapped[position:end].count(b"\n")
            position = end
        return iter(ranges)
    finally:
        mapped.close()


def read_csv_range(part: CsvRange) -> list[tuple[int, list[str]]]:
    """The non-blank rows of one slice, numbered as in the whole file."""
    with open(part.path, "rb") as handle:
        handle.seek(part.start)
        data = handle.read(part.end - part.start)
    # The slice never holds the byte-order mark: it is before the header's line end.
    encoding = "utf-8" if part.encoding == "utf-8-sig" else part.encoding
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        raise _bad_encoding() from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return [(part.first_row + i, row) for i, row in enumerate(reader) if not _blank(row)]
    except csv.Error as exc:
        raise _bad_csv(part.first_row + reader.line_num - 1, exc) from None


# -- XLSX -------------------------------------------------------------------------------------


def read_xlsx(
    source: bytes | Path, *, sheet: str | None = None, max_rows: int | None = None
) -> Table:
    """A sheet of a workbook (the first one unless `sheet` is named), in openpyxl's read-only
    mode after the zip directory and the row count have passed the limits."""
    if isinstance(source, bytes):
        check_size(len(source))
        opened: Any = io.BytesIO(source)
    else:
        check_size(source.stat().st_size)
        opened = source
    try:
        archive = zipfile.ZipFile(opened)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise _bad_workbook(exc) from None
    with archive:
        check_workbook(archive)
        from openpyxl import load_workbook

        if isinstance(opened, io.BytesIO):
            opened.seek(0)
        try:
            workbook = load_workbook(opened, read_only=True, data_only=False)
        except Exception as exc:  # openpyxl raises many types for a damaged file
            raise _bad_workbook(exc) from None
        if sheet is not None and sheet not in workbook.sheetnames:
            workbook.close()
            raise ValidationFailed(
                _("The workbook has no sheet named %(sheet)s.") % {"sheet": sheet},
                code="missing_sheet",
            )
        ws = workbook[sheet] if sheet is not None else workbook.worksheets[0]
        limit = _row_limit(max_rows)
        try:
            # openpyxl keeps the part's name private; reading it is the price of counting the
            # rows of the right sheet without parsing it.
            with archive.open(ws._worksheet_path) as part:
                tags = _row_tags(part)
        except ValidationFailed:
            workbook.close()
            raise
        except (KeyError, zipfile.BadZipFile, NotImplementedError, RuntimeError, zlib.error,
                OSError, EOFError) as exc:  # fmt: skip
            workbook.close()
            raise _bad_workbook(exc) from None
    # Rows are read to the last one there is, not to the size the sheet declares (which may be
    # wrong, and would drop rows silently or pad forever).
    ws.reset_dimensions()
    try:
        header_cells = next(ws.iter_rows(max_row=1), ())
    except Exception as exc:  # openpyxl raises many types for a damaged file
        workbook.close()
        raise _bad_workbook(exc) from None
    headers = [str(c.value).strip() if c.value is not None else "" for c in header_cells]
    while headers and headers[-1] == "":
        headers.pop()
    width = len(headers)
    if not headers and tags == 0:
        workbook.close()
        raise ValidationFailed(_("The sheet is empty."), code="empty_file")

    def cells_of(row: tuple[Any, ...]) -> list[Any]:
        return [
            Formula(str(c.value)) if getattr(c, "data_type", None) == "f" else c.value
            for c in row[:width]
        ]

    def data_rows() -> Iterator[list[Any]]:
        # Row k of the iterator is sheet row k + 2: openpyxl yields an empty row for each gap.
        iterator = ws.iter_rows(min_row=2, max_col=width or None)
        while True:
            try:
                row = next(iterator)
            except StopIteration:
                return
            except Exception as exc:  # openpyxl raises many types for a damaged file
                raise _bad_workbook(exc) from None
            yield cells_of(row)

    if tags > limit:  # an upper bound: count the rows themselves
        try:
            _count_rows(data_rows(), limit)
        except ValidationFailed:
            workbook.close()
            raise

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for number, values in enumerate(data_rows(), start=2):
                if values and not _blank(values):
                    yield number, values
        finally:
            workbook.close()

    return Table(headers=headers, rows=rows(), sheet=ws.title)


def read_table_path(
    path: str | Path, *, sheet: str | None = None, max_rows: int | None = None
) -> Table:
    """A table from a file on disk; CSV is streamed, XLSX read in openpyxl's read-only mode."""
    path = Path(path)
    with path.open("rb") as probe:
        magic = probe.read(2)
    if path.suffix.lower() == ".xlsx" or magic == b"PK":
        return read_xlsx(path, sheet=sheet, max_rows=max_rows)
    if path.suffix.lower() in {".csv", ".txt", ""}:
        return read_csv_path(path, max_rows=max_rows)
    raise ValidationFailed(
        _("Only .xlsx and .csv files can be imported, not %(name)s.") % {"name": path.name},
        code="bad_file_type",
    )


def read_table(
    data: bytes, filename: str, *, sheet: str | None = None, max_rows: int | None = None
) -> Table:
    name = filename.lower()
    if name.endswith(".xlsx") or data[:2] == b"PK":
        return read_xlsx(data, sheet=sheet, max_rows=max_rows)
    if name.endswith((".csv", ".txt")) or not name:
        return read_csv(data, max_rows=max_rows)
    raise ValidationFailed(
        _("Only .xlsx and .csv files can be imported, not %(name)s.") % {"name": filename},
        code="bad_file_type",
    )


def check_upload(data: bytes, filename: str) -> None:
    """What can be checked of an upload without parsing it: its size, its type and, for a
    workbook, its zip directory. Its rows are counted when it is read."""
    check_size(len(data))
    name = filename.lower()
    if name.endswith(".xlsx") or data[:2] == b"PK":
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise _bad_workbook(exc) from None
        with archive:
            check_workbook(archive)
    elif not (name.endswith((".csv", ".txt")) or not name):
        raise ValidationFailed(
            _("Only .xlsx and .csv files can be imported, not %(name)s.") % {"name": filename},
            code="bad_file_type",
        )


def workbook_sheets(data: bytes) -> list[str]:
    """The sheet names of a workbook whose zip directory passed the limits."""
    check_upload(data, "workbook.xlsx")
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise _bad_workbook(exc) from None
    names = list(workbook.sheetnames)
    workbook.close()
    return names
