from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from wangge.core.errors import ValidationFailed
from wangge.core.tabular import (
    CellError,
    Column,
    cell_text,
    iter_parsed,
    parse_date,
    read_csv,
    read_csv_path,
    read_table,
    safe_cell,
    write_xlsx,
)

COLUMNS = [Column("name", "姓名", ("名字",), True), Column("n", "数量", (), False, int)]


def test_csv_encodings_read_the_same() -> None:
    text = "姓名,数量\n张三,1\n\n李四,2\n"
    for data in (text.encode(), b"\xef\xbb\xbf" + text.encode(), text.encode("gb18030")):
        table = read_csv(data)
        assert table.headers == ["姓名", "数量"]
        assert list(table.rows) == [(2, ["张三", "1"]), (4, ["李四", "2"])]


LONG = "长" * 2_000_000  # past the csv module's 131,072-character field limit


@pytest.mark.parametrize(
    ("text", "row"),
    [
        (f"姓名,数量\n张三,1\n\n{LONG},2\n", 4),
        (f'姓名,数量\n张三,1\n"李四,2\n王五,3\n{LONG}\n', 3),  # a quote left open
        (f"{LONG},数量\n张三,1\n", 1),
    ],
)
def test_a_cell_past_the_csv_limit_is_an_error_naming_its_row(
    text: str, row: int, tmp_path: Any
) -> None:
    message = f"第 {row} 行无法读取：有单元格超过 131072 个字符。是否有引号未闭合？"
    path = tmp_path / "big.csv"
    path.write_text(text, encoding="utf-8")
    for read in (lambda: read_csv(text.encode()), lambda: read_csv_path(path)):
        with pytest.raises(ValidationFailed) as caught:
            list(read().rows)
        assert (caught.value.code, caught.value.message) == ("bad_csv", message)
        assert caught.value.details == {"row": row}


def test_row_numbers_match_the_spreadsheet_and_blank_rows_are_not_rows() -> None:
    data = write_xlsx([("s", ["名字", "数量"], [["甲", 1], [None, None], ["", 2]])])
    rows = list(iter_parsed(read_table(data, "x.xlsx"), COLUMNS))
    assert [r.number for r in rows] == [2, 4]
    assert rows[0].values == {"name": "甲", "n": 1}
    assert [(e.row, e.column, e.code) for e in rows[1].errors] == [(4, "姓名", "required")]


def test_size_and_row_limits(settings: Any) -> None:
    settings.IMPORT_MAX_BYTES = 10
    with pytest.raises(ValidationFailed) as info:
        read_csv(b"x" * 11)
    assert info.value.code == "file_too_large"
    settings.IMPORT_MAX_BYTES = 10_000
    settings.IMPORT_MAX_ROWS = 2
    with pytest.raises(ValidationFailed) as info:
        list(iter_parsed(read_csv("姓名\n甲\n乙\n丙\n".encode()), COLUMNS))
    assert info.value.code == "too_many_rows"


def test_not_a_workbook_is_a_clear_error() -> None:
    with pytest.raises(ValidationFailed) as info:
        read_table(b"PK\x03\x04 broken", "x.xlsx")
    assert info.value.code == "bad_workbook"


@given(st.text(max_size=30))
def test_export_never_writes_a_formula_and_reads_back(text: str) -> None:
    text = "".join(ch for ch in text if ch.isprintable())
    data = write_xlsx([("s", ["v"], [[text]])])
    cell = load_workbook(io.BytesIO(data)).active["A2"]
    assert cell.data_type != "f"
    assert cell_text(cell.value) == text.strip()


@pytest.mark.parametrize("text", ["'=", "''=1", "'plain", "=1", "-5", "'"])
def test_escaping_round_trips_apostrophes(text: str) -> None:
    assert cell_text(safe_cell(text)) == text


def test_safe_cell() -> None:
    assert safe_cell("=SUM(A1)") == "'=SUM(A1)"
    assert safe_cell("@cmd") == "'@cmd"
    assert safe_cell("正常") == "正常"
    assert safe_cell(5) == 5


@pytest.mark.parametrize("text", ["2024-04-19", "2024/4/19", "2024年4月19日", "2024.04.19"])
def test_dates_as_chinese_users_write_them(text: str) -> None:
    import datetime as dt

    assert parse_date(text) == dt.date(2024, 4, 19)


def test_bad_date() -> None:
    with pytest.raises(CellError):
        parse_date("2024-02-30")
