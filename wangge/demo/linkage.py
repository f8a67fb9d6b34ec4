"""The demo district's department lists (一张网的数据): three departments' own files, in their own
columns and with the mistakes such lists carry, uploaded and linked through the real services —
民政's elderly-subsidy list (a workbook), 卫健's chronic-disease list and 市场监管's business
registry (CSV) — so the review queue holds real work; and a few people registered twice in the
ledger (another grid, a typo in the number) for the duplicate search to find."""

from __future__ import annotations

import csv
import datetime as dt
import random
import tempfile
from pathlib import Path
from typing import Any

from wangge.core.scope import Scope
from wangge.core.tabular import read_table_path
from wangge.core.tabular.write import write_xlsx
from wangge.ledger.models import Organisation, Person
from wangge.linkage import services
from wangge.linkage.engine import noise

TODAY = dt.date(2026, 11, 1)
YINGNAN = "440704003001"
DISTRICT = "440704"

MZ_HEADERS = [
    "序号",
    "老人姓名",
    "性别",
    "公民身份号码",
    "出生年月",
    "联系电话",
    "现住址",
    "发放状态",
]
WJ_HEADERS = ["编号", "患者姓名", "证件号码", "性别", "出生日期", "手机", "居住地址", "病种"]
SC_HEADERS = ["统一社会信用代码", "企业名称", "法定代表人", "联系电话", "经营场所", "登记状态"]
DISEASES = ["高血压", "2型糖尿病", "高血压", "慢阻肺", "冠心病"]


def _person(p: Person) -> dict[str, Any]:
    return {
        "unique_id": str(p.pk),
        "name": p.name,
        "gender": "女" if p.gender == "female" else "男",
        "birth_date": p.birth_date.isoformat() if p.birth_date else "",
        "id_number": p.id_number,
        "phone": p.phone or None,
        "address": p.current_address or p.registered_address or "",
    }


def _csv(path: Path, headers: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(headers)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
    return path


def _elderly(rng: random.Random, people: list[Person]) -> list[list[Any]]:
    """民政: the oldest people (the subsidy starts at 80), as 民政 spells them, and a few people
    the ledger does not know (moved in, never registered)."""
    oldest = sorted((p for p in people if p.birth_date), key=lambda p: p.birth_date or TODAY)
    chosen = oldest[:120]
    rows = []
    for n, p in enumerate(chosen, 1):
        c = noise.noisy_copy(_person(p), rng) if rng.random() < 0.6 else _person(p)
        rows.append(
            [
                n,
                c["name"],
                c["gender"],
                c["id_number"],
                c["birth_date"],
                c["phone"],
                c["address"],
                "正常发放",
            ]
        )
    for n, stranger in enumerate(noise.make_people(12, seed=8080), len(rows) + 1):
        birth = dt.date(1936 + n % 8, 1 + n % 12, 1 + n % 27)
        rows.append(
            [
                n,
                stranger["name"],
                stranger["gender"],
                noise.id_for(birth, stranger["gender"] == "男", rng),
                birth.isoformat(),
                stranger["phone"],
                stranger["address"],
                "新申请",
            ]
        )
    rows.append([len(rows) + 1, "", "男", "", "", "", "", "停发"])  # a row with no name
    return rows


def _chronic(rng: random.Random, people: list[Person]) -> list[list[Any]]:
    adults = [p for p in people if p.birth_date and p.birth_date.year < 1975]
    chosen = rng.sample(adults, min(150, len(adults)))
    # demo-community's 英南村 gets some of the uncertain ones, so its queue has work.
    yingnan = [p for p in adults if p.grid_code.startswith(YINGNAN) and p not in chosen][:3]
    chosen = yingnan + chosen[: 150 - len(yingnan)]
    rows = []
    for n, p in enumerate(chosen, 1):
        c = noise.noisy_copy(_person(p), rng)
        if (n % 6 == 0 or p in yingnan) and p.birth_date:
            # Registered at the clinic without a number or phone, the birth date misheard:
            # only the name and the year agree, the model is not sure, a reviewer decides.
            c["id_number"], c["phone"], c["address"], c["name"] = None, None, None, p.name
            c["birth_date"] = p.birth_date.replace(month=p.birth_date.month % 12 + 1, day=1)
            c["birth_date"] = c["birth_date"].isoformat()
        rows.append(
            [
                f"WJ{n:05d}",
                c["name"],
                c["id_number"],
                c["gender"],
                c["birth_date"],
                c["phone"],
                c["address"],
                rng.choice(DISEASES),
            ]
        )
    return rows


def _registry(rng: random.Random, orgs: list[Organisation]) -> list[list[Any]]:
    chosen = rng.sample(orgs, min(80, len(orgs)))
    rows = []
    for o in chosen:
        c = noise.noisy_organisation(
            {
                "unique_id": str(o.pk),
                "name": o.name,
                "credit_code": o.credit_code,
                "legal_representative": o.legal_representative or "",
                "phone": o.phone or None,
                "address": o.address or "",
            },
            rng,
        )
        rows.append(
            [
                c["credit_code"],
                c["name"],
                c["legal_representative"],
                c["phone"],
                c["address"],
                "存续",
            ]
        )
    return rows


def build(actor: Scope, *, seed: int = 2026) -> dict[str, Any]:
    rng = random.Random(seed)
    people = list(
        Person.objects.dangerously_unscoped()
        .filter(retired_on__isnull=True)
        .exclude(id_number="")
        .order_by("pk")
    )
    orgs = list(
        Organisation.objects.dangerously_unscoped()
        .filter(retired_on__isnull=True)
        .exclude(credit_code="")
        .order_by("pk")
    )
    services.source_save(
        actor=actor,
        code="mz-elderly",
        kind="people",
        name="民政高龄津贴名单",
        department_code="minzheng",
        care_tag="elderly",
        trusted=["status"],
    )
    services.source_save(
        actor=actor,
        code="wj-chronic",
        kind="people",
        name="卫健慢病管理名单",
        department_code="weijian",
        care_tag="chronic",
        below="tag",
        # Health data (PIPL: sensitive personal information): only for ledger.sensitive.
        sensitive=True,
    )
    services.source_save(
        actor=actor,
        code="scjg-registry",
        kind="organisations",
        name="市场监管企业登记名单",
        department_code="shichang",
        trusted=["credit_code", "legal_representative"],
        below="tag",
    )
    summary: dict[str, Any] = {"twins": _twins(actor, rng, people)}
    with tempfile.TemporaryDirectory(prefix="wangge-demo-lists-") as tmp:
        folder = Path(tmp)
        mz = folder / "民政高龄津贴名单2026年10月.xlsx"
        mz.write_bytes(write_xlsx([("高龄津贴", MZ_HEADERS, _elderly(rng, people))]))
        files = [
            ("mz-elderly", mz),
            ("wj-chronic", _csv(folder / "慢病管理名单.csv", WJ_HEADERS, _chronic(rng, people))),
            ("scjg-registry", _csv(folder / "企业登记.csv", SC_HEADERS, _registry(rng, orgs))),
        ]
        for code, path in files:
            batch = services.batch_import(
                actor=actor, source_code=code, table=read_table_path(path), filename=path.name
            ).batch
            summary[code] = services.batch_run(actor=actor, batch_id=batch.pk)
    summary["duplicates"] = services.duplicates_find(actor=actor, region_code=DISTRICT)
    return summary


def _mistyped(number: str) -> str:
    """One digit of the sequence part changed, the check digit made to fit."""
    body = number[:14] + str((int(number[14]) + 1) % 10) + number[15:17]
    return body + noise.id_check_char(body)


def _twins(actor: Scope, rng: random.Random, people: list[Person]) -> int:
    """People registered a second time in a neighbouring grid with one digit of the number
    mistyped (its check digit recomputed, so the entry passed), as happens when a family moves
    across a grid line: the duplicate search finds them for the community to merge."""
    from wangge.ledger import services as ledger

    made = 0
    chosen = [p for p in people if p.grid_code.startswith(YINGNAN)][:2] + rng.sample(people, 4)
    for p in chosen:
        grid = p.grid_code[:12] + ("002" if p.grid_code[12:] != "002" else "001")
        ledger.person_create(
            actor=actor,
            values={
                "name": p.name,
                "gender": "男" if p.gender == "male" else "女",
                "birth_date": p.birth_date.isoformat() if p.birth_date else "",
                "id_number": _mistyped(p.id_number),
                "phone": p.phone,
                "current_address": p.current_address,
            },
            grid_code=grid,
            confirm_new=True,
            source="demo",
        )
        made += 1
    return made
