"""`wangge grids locate --csv`: every encoding it accepts, every row kept with its status, and
the output byte for byte what csv.writer writes row by row (the reference below, which is how
the command wrote it before it read and wrote in columns)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wangge.regions.locate import GridIndex, grid_index
from wangge.regions.locate_csv import ADDED, _read_columns, locate_csv
from wangge.regions.models import Boundary

pytestmark = pytest.mark.django_db

GRID = "440704003001001"


def reference(text: str, index: GridIndex) -> bytes:
    """Row by row: the csv module, float(), one locate per row, csv.writer."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    lowered = [h.strip().lower() for h in header]
    lon_col = next(i for i, h in enumerate(lowered) if h in ("lon", "lng", "经度", "x"))
    lat_col = next(i for i, h in enumerate(lowered) if h in ("lat", "纬度", "y"))
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([*header, *ADDED])
    width = len(header)
    for row in reader:
        long = len(row) > width
        row = [*row[: width - 1], ",".join(row[width - 1 :])] if long else row
        row = row + [""] * (width - len(row))
        try:
            lon, lat = float(row[lon_col]), float(row[lat_col])
        except ValueError:
            lon = lat = float("nan")
        code = index.codes_for(index.locate([lon], [lat]))[0]
        if long or np.isnan(lon) or np.isnan(lat):
            status, code = "invalid", None
        else:
            status = "ok" if code else "outside"
        added = [code, index.names.get(code, ""), code[:12], code[:9]] if code else [""] * 4
        writer.writerow([*row, *added, status])
    return out.getvalue().encode("utf-8")


@pytest.fixture
def inside() -> tuple[float, float]:
    geo = Boundary.objects.dangerously_unscoped().get(region__code=GRID, valid_to=None).geojson
    p = shapely.from_geojson(geo).representative_point()
    return p.x, p.y


def run(tmp_path: Path, content: bytes) -> tuple[dict[str, Any], bytes]:
    out = tmp_path / "out.csv"
    summary = locate_csv(data=content, out=out, index=grid_index(), crs="wgs84")
    return summary.as_dict(), out.read_bytes()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_every_accepted_encoding_gives_the_same_utf8_output(
    tmp_path: Path, inside: tuple[float, float], encoding: str
) -> None:
    x, y = inside
    text = f"名称,地址,经度,纬度\r\n甲,江海区礼乐街道,{x},{y}\r\n乙,“外面”,100.0,30.0\r\n"

    summary, output = run(tmp_path, text.encode(encoding))

    assert summary["rows"] == 2 and summary["located"] == 1 and summary["outside_rows"] == [3]
    assert output == reference(text, grid_index())
    assert output.startswith("名称,地址,经度,纬度,grid_code,".encode())  # no BOM, UTF-8
    assert f"\r\n甲,江海区礼乐街道,{x},{y},{GRID},".encode() in output


def test_neither_utf8_nor_gb18030_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_bytes(b"lon,lat\n\xff\xfe\x00,1\n")
    with pytest.raises(CommandError, match="GB18030"):
        call_command("grids", "locate", "--csv", str(src), "--out", str(tmp_path / "o.csv"))
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "为空"),
        (b"name,address\nx,y\n", "longitude"),
    ],
)
def test_unusable_files_are_refused_with_a_message(
    tmp_path: Path, content: bytes, message: str
) -> None:
    src = tmp_path / "in.csv"
    src.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        call_command("grids", "locate", "--csv", str(src), "--out", str(tmp_path / "o.csv"))


def test_a_missing_file_is_refused_with_a_message(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"nope\.csv"):
        call_command(
            "grids", "locate", "--csv", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o")
        )


def test_invalid_and_outside_rows_are_kept_and_reported(
    tmp_path: Path, inside: tuple[float, float]
) -> None:
    x, y = inside
    rows = [
        f"ok,{x},{y}",
        "blank,,",
        f"word,abc,{y}",
        f"nan,nan,{y}",
        f"spaces, {x} ,{y}",  # float() takes surrounding spaces
        f"inf,inf,{y}",  # a number, in no grid
        "far,100.0,30.0",
        f'"quoted, with comma","{x}","{y}"',
    ]
    text = "name,lon,lat\n" + "\n".join(rows) + "\n"

    summary, output = run(tmp_path, text.encode())

    assert summary == {
        "rows": 8,
        "located": 3,
        "outside": 2,
        "invalid": 3,
        "outside_rows": [7, 8],
        "invalid_rows": [3, 4, 5],
    }
    assert output == reference(text, grid_index())
    statuses = [r["locate_status"] for r in csv.DictReader(io.StringIO(output.decode()))]
    assert statuses == ["ok", "invalid", "invalid", "invalid", "ok", "outside", "outside", "ok"]


def test_ragged_rows_are_kept_aligned(tmp_path: Path, inside: tuple[float, float]) -> None:
    x, y = inside
    text = (
        f"name,lon,lat,note\n"
        f"short,{x},{y}\n"  # a missing last field: padded, located
        "\n"  # an empty line: a row of empty fields, invalid
        f"long,江门,蓬江,{x},{y}\n"  # an unquoted comma: columns shifted, invalid
        f"fine,{x},{y},备注\n"
    )
    assert _read_columns(text.encode(), ["name", "lon", "lat", "note"]) is None

    summary, output = run(tmp_path, text.encode())

    assert output == reference(text, grid_index())
    rows = list(csv.reader(io.StringIO(output.decode())))
    assert {len(r) for r in rows} == {9}  # every row as wide as the header
    assert [r[-1] for r in rows[1:]] == ["ok", "invalid", "invalid", "ok"]
    assert rows[3][:4] == ["long", "江门", "蓬江", f"{x},{y}"]  # nothing lost
    assert summary["invalid_rows"] == [3, 4]


def test_a_regular_file_takes_the_columnar_reader(inside: tuple[float, float]) -> None:
    x, y = inside
    data = f'name,lon,lat\n"a ""b""\nc",{x},{y}\n,,\n'.encode()
    columns = _read_columns(data, ["name", "lon", "lat"])
    assert columns is not None
    assert [c.to_pylist() for c in columns] == [['a "b"\nc', ""], [str(x), ""], [str(y), ""]]


def test_the_command_prints_the_summary(
    tmp_path: Path, inside: tuple[float, float], capsys: Any
) -> None:
    x, y = inside
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text(f"经度,纬度\n{x},{y}\n1,1\n,\n", encoding="utf-8")

    call_command("grids", "locate", "--csv", str(src), "--out", str(out))

    assert capsys.readouterr().out.splitlines() == [
        "共 3 行：1 行已定位，1 行不在任何网格内，1 行缺少有效坐标。",
        "不在任何网格内的行：3",
        "缺少有效坐标的行：4",
    ]

    call_command("grids", "locate", "--csv", str(src), "--out", str(out), "--json")
    assert json.loads(capsys.readouterr().out)["invalid_rows"] == [4]


FIELD = st.text(alphabet=st.sampled_from(list('ab 中,"\r\n\t1.-e')), max_size=6)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            FIELD,
            st.one_of(FIELD, st.floats(113.0, 113.2).map(str)),
            st.one_of(FIELD, st.floats(22.4, 22.6).map(str)),
        ),
        max_size=12,
    ),
    line_end=st.sampled_from(["\n", "\r\n"]),
)
def test_the_output_is_what_csv_writer_writes(
    tmp_path: Path, rows: list[tuple[str, str, str]], line_end: str
) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=line_end)
    writer.writerow(["名称, 备注", "lon", "lat"])
    writer.writerows(rows)
    text = buffer.getvalue()

    _, output = run(tmp_path, text.encode())

    assert output == reference(text, grid_index())


@pytest.mark.parametrize("content", [b"lon,lat", b"lon,lat\r\n", b"\xef\xbb\xbflon,lat\n"])
def test_a_header_alone_gives_a_header_alone(tmp_path: Path, content: bytes) -> None:
    summary, output = run(tmp_path, content)

    assert summary["rows"] == 0 and summary["invalid_rows"] == []
    assert output == b"lon,lat,grid_code,grid_name,community_code,street_code,locate_status\r\n"
