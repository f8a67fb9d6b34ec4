"""The reader's limits: checked before a parser sees the file, in bounded memory, and an import
over the row limit refused whole. And the CSV slices the people fast path reads in its parsing
process give exactly the rows the streamed reader gives."""

from __future__ import annotations

import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wangge.core.errors import ValidationFailed
from wangge.core.tabular import (
    csv_ranges,
    read_csv,
    read_csv_path,
    read_csv_range,
    read_table,
    read_table_path,
    write_xlsx,
)
from wangge.core.tests.workbooks import PARTS, row, write_xlsx_parts

MIB = 1 << 20


def _status_kib(field: str) -> int:
    found = re.search(rf"{field}:\s+(\d+) kB", Path("/proc/self/status").read_text())
    assert found is not None
    return int(found.group(1))


def _reset_peak() -> int:
    """Reset this process's peak RSS (VmHWM) to its current RSS, and return that."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_kib("VmHWM")


def _read_all(path: Path) -> int:
    return sum(1 for _row in read_table_path(path).rows)


def test_a_zip_bomb_is_refused_before_parsing_in_bounded_memory(tmp_path: Path) -> None:
    # Given a 0.3 MB workbook whose one cell unpacks to 300 MB of padding.
    padding = [b"0" * MIB] * 300  # one megabyte, written 300 times
    cell = b'<row r="2"><c r="A2" t="inlineStr"><is><t>'
    path = write_xlsx_parts(
        tmp_path / "bomb.xlsx", [row(1, ["姓名"]), cell, *padding, b"</t></is></c></row>"]
    )
    assert path.stat().st_size < 2 * MIB
    before = _reset_peak()

    # When it is read (and its rows iterated, as an import would).
    with pytest.raises(ValidationFailed) as info:
        _read_all(path)

    # Then it is refused on its zip directory, and the process hardly grew.
    grown_kib = _status_kib("VmHWM") - before
    assert info.value.code == "workbook_too_large"
    assert "xl/worksheets/sheet1.xml" in info.value.message
    assert grown_kib < 20 * 1024, grown_kib


def test_a_workbook_that_unpacks_past_the_limit_is_refused(settings: Any) -> None:
    data = write_xlsx([("s", ["姓名", "备注"], [[f"人{i}", "说明" * 20] for i in range(5000)])])
    settings.IMPORT_MAX_UNCOMPRESSED_BYTES = MIB
    with pytest.raises(ValidationFailed) as info:
        read_table(data, "big.xlsx")
    assert info.value.code == "workbook_too_large"
    settings.IMPORT_MAX_UNCOMPRESSED_BYTES = 10 * MIB
    assert len(list(read_table(data, "big.xlsx").rows)) == 5000


def test_a_workbook_of_too_many_parts_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "parts.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in PARTS.items():
            archive.writestr(name, text)
        for i in range(1001):
            archive.writestr(f"xl/media/image{i}.png", b"x")
    with pytest.raises(ValidationFailed) as info:
        read_table_path(path)
    assert info.value.code == "workbook_too_large"


def _csv(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("form", ["path", "bytes"])
def test_a_csv_over_the_row_limit_is_refused_whole(
    tmp_path: Path, settings: Any, form: str
) -> None:
    settings.IMPORT_MAX_ROWS = 3
    text = "姓名\n甲\n乙\n丙\n丁\n"
    path = _csv(tmp_path, text)
    with pytest.raises(ValidationFailed) as info:
        read_csv_path(path) if form == "path" else read_csv(text.encode())
    assert info.value.code == "too_many_rows"
    assert info.value.details == {"limit": 3}
    assert info.value.message == (
        "文件超过 3 行（单次导入的上限），未导入任何数据。请拆分为每个不超过 3 行的文件。"
    )


def test_blank_lines_are_not_rows_for_the_limit(tmp_path: Path, settings: Any) -> None:
    # More lines than the limit, as many rows as it: counted row by row, and accepted.
    settings.IMPORT_MAX_ROWS = 3
    text = "姓名\n甲\n\n,\n乙\n \n丙\n"
    assert [n for n, _cells in read_csv_path(_csv(tmp_path, text)).rows] == [2, 5, 7]
    assert [n for n, _cells in read_csv(text.encode()).rows] == [2, 5, 7]


def test_rows_ended_by_a_bare_cr_count_for_the_limit(tmp_path: Path, settings: Any) -> None:
    # csv.reader ends a row at a bare CR too: counting LFs alone would let this through.
    settings.IMPORT_MAX_ROWS = 3
    with pytest.raises(ValidationFailed) as info:
        read_csv_path(_csv(tmp_path, "姓名\r甲\r乙\r丙\r丁\r"))
    assert info.value.code == "too_many_rows"


def test_a_workbook_over_the_row_limit_is_refused_whole(settings: Any) -> None:
    settings.IMPORT_MAX_ROWS = 3
    data = write_xlsx([("s", ["姓名"], [["甲"], ["乙"], ["丙"], ["丁"]])])
    with pytest.raises(ValidationFailed) as info:
        read_table(data, "x.xlsx")
    assert (info.value.code, info.value.details) == ("too_many_rows", {"limit": 3})
    blank_rows = write_xlsx([("s", ["姓名"], [["甲"], [None], ["乙"], [""], ["丙"]])])
    assert [n for n, _cells in read_table(blank_rows, "x.xlsx").rows] == [2, 4, 6]


def test_a_lying_dimension_drops_no_rows(tmp_path: Path) -> None:
    # The sheet says it ends at row 2; openpyxl's read-only mode would believe it.
    path = write_xlsx_parts(
        tmp_path / "d.xlsx",
        [row(n, ["姓名" if n == 1 else f"人{n}"]) for n in range(1, 6)],
        dimension="A1:A2",
    )
    assert list(read_table_path(path).rows) == [(n, [f"人{n}"]) for n in range(2, 6)]


def test_a_row_number_past_excels_last_row_is_refused(tmp_path: Path) -> None:
    # openpyxl would yield an empty row for every number in between.
    path = write_xlsx_parts(tmp_path / "r.xlsx", [row(1, ["姓名"]), row(2_000_000, ["甲"])])
    with pytest.raises(ValidationFailed) as info:
        read_table_path(path)
    assert info.value.code == "bad_workbook"


def test_a_sheet_broken_halfway_is_a_clear_error(tmp_path: Path) -> None:
    path = write_xlsx_parts(
        tmp_path / "b.xlsx",
        [row(n, ["姓名" if n == 1 else f"人{n}"]) for n in range(1, 3000)],
        end=b'<row r="3000"><c r="A3000"><v>1</c></row>',
    )
    with pytest.raises(ValidationFailed) as info:
        _read_all(path)
    assert info.value.code == "bad_workbook"


def test_bad_bytes_past_the_encoding_probe_refuse_the_file_before_any_row(
    tmp_path: Path,
) -> None:
    # The first 64 KB read as UTF-8; a GB18030 line further down does not.
    text = "姓名\n" + "甲\n" * 30_000
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode() + "乙\n".encode("gb18030"))
    with pytest.raises(ValidationFailed) as info:
        read_csv_path(path)
    assert info.value.code == "bad_encoding"


def test_a_field_past_the_csv_limit_is_a_clear_error(tmp_path: Path) -> None:
    table = read_csv_path(_csv(tmp_path, "姓名,备注\n甲,短\n乙," + "长" * 200_000 + "\n"))
    with pytest.raises(ValidationFailed) as info:
        list(table.rows)
    assert info.value.code == "bad_csv"
    assert "3" in info.value.message  # the line


CELL = st.text(alphabet="甲乙丙丁张王ab1 -", max_size=6)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.lists(CELL, min_size=1, max_size=4), min_size=1, max_size=40),
    newline=st.sampled_from(["\n", "\r\n"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
    per_slice=st.integers(min_value=1, max_value=7),
)
def test_csv_slices_read_the_rows_the_stream_reads(
    rows: list[list[str]], newline: str, encoding: str, per_slice: int
) -> None:
    text = newline.join(",".join(r) for r in [["姓名", "备注"], *rows]) + newline
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "t.csv"
        path.write_bytes(text.encode(encoding))
        streamed = list(read_csv_path(path).rows)
        table = read_csv_path(path)
        ranges = csv_ranges(table, rows=per_slice)
        assert ranges is not None
        sliced = [r for part in ranges for r in read_csv_range(part)]
    assert sliced == streamed


def test_a_csv_with_quotes_is_not_sliced(tmp_path: Path) -> None:
    table = read_csv_path(_csv(tmp_path, '姓名,备注\n甲,"一\n二"\n'))
    assert csv_ranges(table, rows=1) is None
    assert list(table.rows) == [(2, ["甲", "一\n二"])]
