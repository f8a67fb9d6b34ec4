"""Test data for linkage: a department's file made from the test world's people, in the
department's own columns, with the noise such lists have (no ID number, a homophone, a 15-digit
legacy number, full-width digits, a stranger)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from wangge.core.tabular import Table, read_csv
from wangge.ledger.models import Person

MZ_HEADERS = [
    "序号",
    "老人姓名",
    "性别",
    "公民身份号码",
    "出生年月",
    "联系电话",
    "现住址",
    "享受状态",
]


def csv_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    return read_csv(csv_bytes(headers, rows))


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue().encode("utf-8")


def legacy(id18: str) -> str:
    """The 15-digit number an 18-digit one replaced (century and check digit dropped)."""
    return id18[:6] + id18[8:17]


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "0" <= c <= "9" else c for c in text)


def gender_word(p: Person) -> str:
    return "女" if p.gender == "female" else "男"


def mz_row(
    n: int,
    p: Person,
    *,
    id_number: str | None = None,
    name: str | None = None,
    phone: str | None = None,
    birth: str | None = None,
) -> list[Any]:
    return [
        n,
        p.name if name is None else name,
        gender_word(p),
        p.id_number if id_number is None else id_number,
        (p.birth_date.strftime("%Y/%m/%d") if p.birth_date else "") if birth is None else birth,
        p.phone if phone is None else phone,
        p.current_address or "江门市江海区礼乐街道英南村",
        "正常发放",
    ]
