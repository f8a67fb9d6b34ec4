"""Locate every row of a CSV file (`wangge grids locate --csv IN --out OUT`), read and written
in columns, not row by row.

The input is UTF-8 (with or without BOM) or GB18030 (a superset of GBK). Every row is kept, in
order, with five columns added: grid_code, grid_name, community_code, street_code and
locate_status — `ok`, `outside` (valid coordinates in no grid) or `invalid` (no valid number in
the longitude or latitude column, or more fields than the header). Rows are numbered as records
after the header (the first data row is row 2). The output is UTF-8 with CRLF line ends, quoted
where needed: what Python's csv.writer writes, byte for byte.

A regular file is parsed by pyarrow (multi-threaded); a ragged one (rows with fewer or more
fields than the header) by the csv module. Either way the coordinates are parsed, located and
written by the same vectorised code, and a value that is not a plain decimal number is parsed
by Python's float(), so both paths accept exactly what float() accepts.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.utils.translation import gettext as _
from numpy.typing import NDArray

from wangge.core.errors import ValidationFailed
from wangge.core.geo import Crs
from wangge.regions.locate import GridIndex

LON_NAMES = ("lon", "lng", "longitude", "经度", "x")
LAT_NAMES = ("lat", "latitude", "纬度", "y")
ADDED = ("grid_code", "grid_name", "community_code", "street_code", "locate_status")
STATUSES = ("ok", "outside", "invalid")
REPORTED_ROWS = 1000
# Rows written per batch: bounds the output's memory (and keeps string offsets in 32 bits).
BATCH = 250_000
# A number pyarrow's cast parses exactly as float() does; anything else goes to float().
PLAIN_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
NEEDS_QUOTES = r'[",\r\n]'


@dataclass
class LocateCsvSummary:
    rows: int = 0
    located: int = 0
    outside: int = 0
    invalid: int = 0
    outside_rows: list[int] = field(default_factory=list)  # the first REPORTED_ROWS
    invalid_rows: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "located": self.located,
            "outside": self.outside,
            "invalid": self.invalid,
            "outside_rows": self.outside_rows,
            "invalid_rows": self.invalid_rows,
        }


def locate_csv(*, data: bytes, out: Path, index: GridIndex, crs: Crs | str) -> LocateCsvSummary:
    """Write `out`: the rows of the CSV file `data` with their grids. Raises ValidationFailed
    for a file that is neither UTF-8 nor GB18030, is empty or lacks coordinate columns."""
    data, text = _utf8(data)
    try:
        header = next(csv.reader(io.StringIO(text, newline="")), None)
    except csv.Error as exc:
        raise ValidationFailed(_("The CSV cannot be read: %(error)s") % {"error": exc}) from None
    if not header:
        raise ValidationFailed(_("The CSV is empty."))
    lowered = [h.strip().lower() for h in header]
    lon_col = next((i for i, h in enumerate(lowered) if h in LON_NAMES), None)
    lat_col = next((i for i, h in enumerate(lowered) if h in LAT_NAMES), None)
    if lon_col is None or lat_col is None:
        raise ValidationFailed(
            _("The CSV needs a longitude column (%(lon)s) and a latitude column (%(lat)s).")
            % {"lon": "/".join(LON_NAMES), "lat": "/".join(LAT_NAMES)}
        )
    columns = _read_columns(data, header)
    if columns is None:
        columns, ragged = _read_rows(text, header)
    else:
        ragged = np.zeros(len(columns[0]), dtype=bool)
    lon, lat = _floats(columns[lon_col]), _floats(columns[lat_col])
    status = np.where(np.isnan(lon) | np.isnan(lat) | ragged, 2, 0).astype(np.int8)
    idx = index.locate(lon, lat, crs)
    status[(status == 0) & (idx < 0)] = 1
    idx[status != 0] = -1
    _write(out, header, columns, idx, status, index)

    counts = np.bincount(status, minlength=3)
    return LocateCsvSummary(
        rows=len(status),
        located=int(counts[0]),
        outside=int(counts[1]),
        invalid=int(counts[2]),
        outside_rows=(np.nonzero(status == 1)[0][:REPORTED_ROWS] + 2).tolist(),
        invalid_rows=(np.nonzero(status == 2)[0][:REPORTED_ROWS] + 2).tolist(),
    )


def _utf8(raw: bytes) -> tuple[bytes, str]:
    """The file as UTF-8 bytes without BOM, and as text."""
    try:
        text = raw.decode("utf-8-sig")
        return (raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw), text
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        raise ValidationFailed(_("The CSV is neither UTF-8 nor GB18030.")) from None
    return text.encode("utf-8"), text


def _read_columns(data: bytes, header: list[str]) -> list[pa.Array] | None:
    """The data rows' columns as strings, parsed by pyarrow; None for a file whose rows do not
    all have the header's width (or whose header pyarrow reads otherwise than the csv module)."""
    names = [f"f{i}" for i in range(len(header))]
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(column_names=names, block_size=4 << 20),
            parse_options=pacsv.ParseOptions(
                # Quoted values may hold line breaks; a slower parse, needed only with quotes.
                newlines_in_values=b'"' in data,
                # An empty line is a row of empty fields, as the csv module's (padded) reading.
                ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        return None
    if table.num_rows == 0 or [table.column(i)[0].as_py() for i in range(len(names))] != header:
        return None
    return [table.column(i).slice(1).combine_chunks() for i in range(len(names))]


def _read_rows(text: str, header: list[str]) -> tuple[list[pa.Array], NDArray[np.bool_]]:
    """The csv module's reading, for ragged files: a short row (an empty line too) is padded
    with empty fields; a row with more fields than the header is `invalid` (its columns cannot
    be matched) and keeps its extra fields, joined by commas, in its last column."""
    width = len(header)
    rows = csv.reader(io.StringIO(text, newline=""))
    next(rows)
    fields: list[list[str]] = [[] for _ in range(width)]
    ragged: list[bool] = []
    try:
        for row in rows:
            long = len(row) > width
            if long:
                row = [*row[: width - 1], ",".join(row[width - 1 :])]
            elif len(row) < width:
                row = row + [""] * (width - len(row))
            ragged.append(long)
            for column, value in zip(fields, row, strict=True):
                column.append(value)
    except csv.Error as exc:
        raise ValidationFailed(_("The CSV cannot be read: %(error)s") % {"error": exc}) from None
    return [pa.array(column, type=pa.string()) for column in fields], np.array(ragged, dtype=bool)


def _floats(values: pa.Array) -> NDArray[np.float64]:
    """float() of every value, NaN where float() refuses it."""
    plain = pc.fill_null(pc.match_substring_regex(values, PLAIN_NUMBER), False)
    parsed = pc.cast(pc.if_else(plain, values, "nan"), pa.float64())
    result = np.array(parsed.to_numpy(zero_copy_only=False), dtype=np.float64)  # writable
    others = np.nonzero(~plain.to_numpy(zero_copy_only=False))[0]
    for i, value in zip(others.tolist(), values.take(others).to_pylist(), strict=True):
        try:
            result[i] = float(value)
        except ValueError:
            result[i] = np.nan
    return result


def _quoted(values: pa.Array) -> pa.Array:
    """Each value as csv.writer (QUOTE_MINIMAL) writes it."""
    needs = pc.match_substring_regex(values, NEEDS_QUOTES)
    if not pc.any(needs).as_py():
        return values
    escaped = pc.binary_join_element_wise('"', pc.replace_substring(values, '"', '""'), '"', "")
    return pc.if_else(needs, escaped, values)


def _write(
    out: Path,
    header: list[str],
    columns: list[pa.Array],
    idx: NDArray[np.int32],
    status: NDArray[np.int8],
    index: GridIndex,
) -> None:
    codes = [str(c) for c in index.codes]
    # Per grid (and one empty row last, for rows in no grid): the added columns, quoted once.
    grid_columns = [
        _quoted(pa.array([*values, ""], type=pa.string()))
        for values in (
            codes,
            [index.names.get(c, "") for c in codes],
            [c[:12] for c in codes],
            [c[:9] for c in codes],
        )
    ]
    statuses = pa.array(STATUSES, type=pa.string())
    grid_row = np.where(idx < 0, len(codes), idx)
    head = io.StringIO()
    csv.writer(head).writerow([*header, *ADDED])
    with out.open("wb") as handle:
        handle.write(head.getvalue().encode("utf-8"))
        for start in range(0, len(status), BATCH):
            stop = min(start + BATCH, len(status))
            rows = pa.array(grid_row[start:stop])
            line = pc.binary_join_element_wise(
                *(_quoted(c.slice(start, stop - start)) for c in columns),
                *(c.take(rows) for c in grid_columns),
                statuses.take(pa.array(status[start:stop])),
                ",",
            )
            handle.write(_concatenated(pc.binary_join_element_wise(line, "", "\r\n")))


def _concatenated(values: pa.Array) -> memoryview:
    """The bytes of a string array's values, end to end (it has no nulls)."""
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)
    first, last = offsets[values.offset], offsets[values.offset + len(values)]
    return memoryview(values.buffers()[2])[first:last]
