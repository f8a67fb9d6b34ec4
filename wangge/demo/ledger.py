"""The demo district's ledger: addresses, households, people, organisations and things,
imported through the same importers a district uses (CSV files written to a temp dir)."""

from __future__ import annotations

import csv
import datetime as dt
import random
import tempfile
from pathlib import Path
from typing import Any

import shapely

from wangge.core.scope import Scope
from wangge.core.tabular import read_table_path
from wangge.core.validators import credit_check_char
from wangge.demo.people import PeopleFactory
from wangge.ledger import columns as cols
from wangge.ledger.importers import ledger_import
from wangge.regions.models import Boundary, Level, Region

TODAY = dt.date(2026, 11, 1)
CARE = {
    "elderly_alone": "独居老人",
    "disabled": "残疾人",
    "subsistence": "低保",
    "chronic": "长期病患",
    "pregnant": "孕妇",
    "child": "留守困境儿童",
}
THING_KINDS = [  # (major, minor, name, unit)
    ("01", "01", "上水井盖", "江门市自来水公司"),
    ("01", "05", "路灯", "江海区城管局"),
    ("01", "09", "消火栓", "江海区消防救援大队"),
    ("02", "07", "交通标志牌", "江海区交通运输局"),
    ("03", "02", "垃圾收集点", "江海区城管局"),
    ("03", "03", "果皮箱", "江海区城管局"),
    ("06", "01", "电子眼", "江门市公安局江海分局"),
]
SHOPS = [
    "便利店",
    "美发店",
    "快递驿站",
    "五金店",
    "药店",
    "餐馆",
    "洗浴推拿",
    "日租公寓",
    "早餐店",
    "水果店",
]
KEY_TAGS = {
    "快递驿站": "快递点",
    "美发店": "美容美发",
    "日租公寓": "日租公寓",
    "洗浴推拿": "洗浴推拿",
}


def _points_in(geom: Any, n: int, rng: random.Random) -> list[tuple[float, float]]:
    minx, miny, maxx, maxy = geom.bounds
    shapely.prepare(geom)
    points: list[tuple[float, float]] = []
    while len(points) < n:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shapely.contains_xy(geom, x, y):
            points.append((round(x, 7), round(y, 7)))
    return points


def _credit_code(rng: random.Random, kind: str) -> str:
    head = {"enterprise": "91", "individual": "92", "social": "52", "public": "12"}[kind]
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    first17 = head + "440704" + "".join(rng.choice(chars) for _ in range(9))
    return first17 + credit_check_char(first17)


def _write(path: Path, headers: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def build(actor: Scope, *, people: int = 3000, seed: int = 2022) -> dict[str, Any]:
    rng = random.Random(seed)
    factory = PeopleFactory(seed + 1)
    grids = list(
        Region.objects.dangerously_unscoped()
        .filter(level=Level.GRID, valid_to=None)
        .select_related("parent")
        .order_by("code")
    )
    shapes = {
        code: shapely.from_geojson(g)
        for code, g in Boundary.objects.dangerously_unscoped()
        .filter(valid_to=None, region__level=Level.GRID)
        .values_list("region__code", "geojson")
    }
    per_grid = max(1, people // len(grids))
    addresses, people_rows, org_rows, thing_rows = [], [], [], []
    household_no = 0
    thing_seq = 0
    for grid in grids:
        community = grid.code[:12]
        community_name = grid.parent.name if grid.parent else ""
        estate_code = f"{community}{int(grid.code[-3:]):03d}"
        estate_name = f"{community_name}{grid.code[-2:]}号小区"
        buildings = max(1, per_grid // 40)
        points = _points_in(shapes[grid.code], buildings + 8, rng)
        rooms: list[str] = []
        for b in range(buildings):
            building_code = f"{estate_code}{b + 1:03d}"
            lon, lat = points[b]
            address = f"{estate_name}{b + 1}栋"  # the estate name starts with the community's
            for unit in (1, 2):
                for floor in range(1, 7):
                    for door in (1, 2):
                        number = f"{floor}{door:02d}"
                        room_code = f"{building_code}{unit:02d}{int(number):04d}"
                        rooms.append(room_code)
                        addresses.append(
                            [
                                estate_code,
                                estate_name,
                                building_code,
                                f"{b + 1}栋",
                                address,
                                lon,
                                lat,
                                6,
                                2,
                                room_code,
                                unit,
                                number,
                                floor,
                                rng.choice((68, 82, 95, 110, 126)),
                                rng.choices(["自住", "出租", "空置", "经营"], [70, 20, 8, 2])[0],
                            ]
                        )
        # Households of 1–5 people in the grid's rooms.
        made = 0
        while made < per_grid and rooms:
            household_no += 1
            code = f"H{grid.code}{household_no:05d}"
            room = rng.choice(rooms)
            size = rng.choices([1, 2, 3, 4, 5], [12, 28, 30, 20, 10])[0]
            floating = rng.random() < 0.22
            for member in range(size):
                if member == 0:
                    relation, age = "户主", rng.randint(28, 88)
                elif member == 1:
                    relation, age = "配偶", rng.randint(26, 85)
                else:
                    relation, age = rng.choice(["子", "女"]), rng.randint(0, 30)
                gender = "male" if (relation in {"户主", "子"} and rng.random() < 0.8) else "female"
                care = []
                if age >= 75 and size == 1:
                    care.append(CARE["elderly_alone"])
                if rng.random() < 0.02:
                    care.append(CARE["disabled"])
                if rng.random() < 0.01:
                    care.append(CARE["subsistence"])
                if age >= 60 and rng.random() < 0.05:
                    care.append(CARE["chronic"])
                if gender == "female" and 22 <= age <= 38 and rng.random() < 0.03:
                    care.append(CARE["pregnant"])
                special = []
                if age >= 18 and rng.random() < 0.004:
                    special.append(rng.choice(list(cols.SPECIAL_LABELS.values())))
                people_rows.append(
                    [
                        factory.name(gender),
                        factory.id_number(gender, max(age, 0), max(age, 0) + 1, TODAY)
                        if age > 0
                        else factory.id_number(gender, 0, 1, TODAY),
                        factory.phone() if age >= 16 else "",
                        "汉族" if rng.random() < 0.97 else rng.choice(["壮族", "瑶族", "回族"]),
                        "广东省江门市江海区"
                        if not floating
                        else rng.choice(
                            ["广西壮族自治区玉林市", "湖南省永州市", "四川省达州市", "广东省湛江市"]
                        ),
                        room,
                        "2" if floating else "1",
                        "是" if floating else "否",
                        code,
                        relation,
                        "、".join(care),
                        "、".join(special),
                        rng.choice(["", "江门某电子厂", "江海区某公司", "个体经营", "退休"])
                        if age >= 18
                        else "",
                    ]
                )
                made += 1
        # Shops, enterprises and facilities near the buildings.
        for i in range(2):
            shop = rng.choice(SHOPS)
            kind = "individual" if i == 0 else rng.choice(["enterprise", "enterprise", "social"])
            trade = rng.choice(["电子", "五金", "物流", "社工服务"])
            company = f"江门市江海区{community_name}某{trade}有限公司"
            lon, lat = points[buildings + i]
            org_rows.append(
                [
                    f"{community_name}{shop}" if kind == "individual" else company,
                    _credit_code(rng, kind),
                    cols.KIND_LABELS[kind],
                    factory.name("male"),
                    factory.phone(),
                    f"{community_name}{estate_name}商铺{i + 1}号",
                    grid.code,
                    lon,
                    lat,
                    rng.randint(1, 80),
                    KEY_TAGS.get(shop, ""),
                ]
            )
        for i in range(3):
            major, minor, thing_name, thing_unit = rng.choice(THING_KINDS)
            thing_seq += 1
            lon, lat = points[buildings + 2 + i]
            thing_rows.append(
                [
                    f"440704{major}{minor}{thing_seq:06d}",
                    thing_name,
                    thing_unit,
                    rng.choices(["完好", "破损", "丢失"], [90, 8, 2])[0],
                    lon,
                    lat,
                    "",
                ]
            )
    summary = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        jobs: list[tuple[str, list[str], list[list[Any]]]] = [
            ("addresses", [c.header for c in cols.ADDRESSES], addresses),
            (
                "people",
                [
                    "姓名",
                    "身份证号",
                    "手机号码",
                    "民族",
                    "户籍地址",
                    "地址编码",
                    "人口类型",
                    "人户分离",
                    "户编号",
                    "与户主关系",
                    "关爱对象",
                    "特殊人群",
                    "工作单位",
                ],
                people_rows,
            ),
            (
                "organisations",
                [
                    "单位名称",
                    "统一社会信用代码",
                    "单位类型",
                    "法定代表人",
                    "联系电话",
                    "地址",
                    "网格编码",
                    "经度",
                    "纬度",
                    "从业人数",
                    "重点场所类型",
                ],
                org_rows,
            ),
            (
                "things",
                ["部件编码", "名称", "责任单位", "状态", "经度", "纬度", "备注"],
                thing_rows,
            ),
        ]
        for kind, headers, rows in jobs:
            result = ledger_import(
                actor=actor,
                kind=kind,
                table=read_table_path(_write(base / f"{kind}.csv", headers, rows)),
            )
            if result.rejected:
                raise RuntimeError(
                    f"demo {kind} rejected: {[e.as_dict() for e in result.errors[:3]]}"
                )
            summary[kind] = result.inserted
    return summary
