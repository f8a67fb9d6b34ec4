"""Seeded synthetic people and organisations of Jianghai district (440704), and noisy copies of
them as a department's list would hold them: the benchmark's, the tests' and the demo's data.

`make_people(n, seed)` gives canonical records (surnames by their frequency in China, valid
18-digit ID numbers, mobiles, Jianghai addresses); `noisy_copy(person, rng)` the same person
with the mistakes that real lists carry — homophone characters (晓/小, 汪/王), traditional
characters, swapped given-name characters, typos, full-width digits, ID numbers missing, with
swapped or wrong digits or in their 15-digit legacy form, free-text address variants and
missing fields. Organisations likewise, with credit codes valid per GB 32100.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from typing import Any

from wangge.linkage.engine.normalise import CREDIT_CHARS, credit_check_char, id_check_char

DISTRICT = "440704"

# The commonest surnames and their approximate shares (per cent) of China's population.
SURNAMES = (
    ("王", 7.1), ("李", 7.0), ("张", 6.7), ("刘", 5.4), ("陈", 4.5), ("杨", 3.1), ("黄", 2.6),
    ("赵", 2.3), ("吴", 2.0), ("周", 1.9), ("徐", 1.5), ("孙", 1.5), ("马", 1.3), ("朱", 1.3),
    ("胡", 1.3), ("郭", 1.2), ("何", 1.2), ("高", 1.1), ("林", 1.1), ("罗", 1.1), ("郑", 1.0),
    ("梁", 1.0), ("谢", 0.9), ("宋", 0.8), ("唐", 0.8), ("许", 0.8), ("韩", 0.7), ("冯", 0.7),
    ("邓", 0.7), ("曹", 0.7), ("彭", 0.6), ("曾", 0.6), ("肖", 0.6), ("田", 0.6), ("董", 0.5),
    ("袁", 0.5), ("潘", 0.5), ("于", 0.5), ("蒋", 0.5), ("蔡", 0.5), ("余", 0.5), ("杜", 0.5),
    ("叶", 0.5), ("程", 0.5), ("苏", 0.4), ("魏", 0.4), ("吕", 0.4), ("丁", 0.4), ("任", 0.4),
    ("沈", 0.4), ("姚", 0.4), ("卢", 0.4), ("姜", 0.4), ("崔", 0.3), ("钟", 0.3), ("谭", 0.3),
    ("陆", 0.3), ("汪", 0.3), ("范", 0.3), ("金", 0.3), ("石", 0.3), ("廖", 0.3), ("贾", 0.3),
    ("夏", 0.3), ("韦", 0.3), ("付", 0.3), ("方", 0.3), ("白", 0.3), ("邹", 0.3), ("孟", 0.3),
    ("熊", 0.3), ("秦", 0.3), ("邱", 0.3), ("江", 0.3), ("尹", 0.3), ("薛", 0.2), ("闫", 0.2),
    ("段", 0.2), ("雷", 0.2), ("侯", 0.2), ("龙", 0.2), ("史", 0.2), ("陶", 0.2), ("黎", 0.2),
    ("贺", 0.2), ("顾", 0.2), ("毛", 0.2), ("郝", 0.2), ("龚", 0.2), ("邵", 0.2), ("万", 0.2),
    ("钱", 0.2), ("严", 0.2), ("覃", 0.2), ("武", 0.2), ("戴", 0.2), ("莫", 0.2), ("孔", 0.2),
    ("欧阳", 0.05), ("司马", 0.02), ("上官", 0.02),
)  # fmt: skip
GIVEN_MALE = "伟强军磊洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林欢阳建国志文力永新兵"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀玲桂英华红梅琳燕萍雪慧颖婷倩洁佳欣怡璐雯晶莉月云凤兰琴爱"
GIVEN_ANY = "晓小子思嘉家锦俊文志海金玉春秋永德"
# Characters read alike, the commonest clerical confusion between two lists.
HOMOPHONES = (
    "晓小筱", "王汪", "明铭鸣", "伟玮炜", "华桦", "丽莉俐", "军君钧", "峰锋丰", "静婧", "杰洁",
    "红宏鸿", "林琳霖", "玲铃翎", "张章", "李里", "陈晨", "刘留", "杨阳扬", "黄皇", "周舟",
    "吴武", "徐许", "朱珠", "何和", "郑正", "肖萧", "于余", "付傅", "江姜", "严闫", "英莹瑛",
    "芳方", "娟涓", "燕艳", "梅玫", "霞夏", "婷亭", "建健剑", "国帼", "志智", "文雯", "海",
    "欣新馨", "怡宜", "佳嘉家", "思丝", "子紫梓", "俊骏", "宇雨语", "浩昊", "鹏朋", "飞菲",
)  # fmt: skip
_HOMOPHONE = {c: group for group in HOMOPHONES for c in group if len(group) > 1}
# Visually or phonetically close characters: typing mistakes that change the pinyin.
TYPOS = "人入八大天夫王玉土士未末己已日曰午牛"

STREETS: dict[str, dict[str, tuple[str, ...]]] = {
    "礼乐街道": {
        "英南村": ("五坊大街", "英南路", "一坊", "二坊"),
        "乌纱村": ("乌纱大道", "沙头里", "新村路"),
        "威东村": ("威东路", "东华里", "南安巷"),
        "新民村": ("新民大街", "新民东路"),
        "礼乐社区": ("礼乐大道", "文昌路", "武东路"),
    },
    "外海街道": {
        "麻三村": ("麻三大街", "东海路", "西海路"),
        "南庚村": ("南庚路", "福泉里"),
        "直冲村": ("直冲大道", "金瓯路"),
        "金溪社区": ("金溪路", "外海大道", "东海路"),
        "中东村": ("中东路", "龙溪路"),
    },
    "江南街道": {
        "滘头社区": ("江睦路", "滘头大街", "永康路"),
        "滘北社区": ("滘北路", "江睦路", "富华里"),
        "文昌沙社区": ("文昌路", "沙仔尾巷"),
        "东华社区": ("东华一路", "东华二路", "江南大道"),
        "白沙社区": ("白沙大道", "白石路"),
    },
}
ESTATES = (
    ("江南街道", "东华社区", "金汇花园"),
    ("江南街道", "滘头社区", "华侨城"),
    ("外海街道", "金溪社区", "碧桂园"),
    ("外海街道", "金溪社区", "海逸豪庭"),
    ("礼乐街道", "礼乐社区", "锦绣江南苑"),
    ("江南街道", "白沙社区", "保利中央公园"),
)
ORG_TRADES = (
    "五金制品", "电子科技", "家具", "食品", "纺织", "机械设备", "塑料制品", "物流", "建材",
    "餐饮管理", "照明电器", "汽车配件", "包装材料", "贸易", "水产养殖", "印刷", "服装",
)  # fmt: skip
ORG_WORDS = "华富强盛达兴隆丰泰宏源鑫恒通顺祥瑞金海新美嘉信德利"
ORG_FORMS = ("有限公司", "有限公司", "有限公司", "股份有限公司", "厂", "经营部", "商行")
MOBILE_PREFIXES = (
    "130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158",
    "159", "176", "177", "180", "181", "186", "187", "188", "189",
    "135", "136", "137", "138", "139", "135", "136", "137", "138", "139",  # China Mobile: commoner
)  # fmt: skip


def known_places() -> dict[str, list[str]]:
    """The district's streets, communities, estates and roads (the engine's KnownPlaces)."""
    roads = sorted(
        {r for communities in STREETS.values() for rs in communities.values() for r in rs}
    )
    return {
        "streets": list(STREETS),
        "communities": [c for communities in STREETS.values() for c in communities],
        "estates": [e for _s, _c, e in ESTATES],
        "roads": roads,
    }


@functools.lru_cache(maxsize=1)
def _weights() -> tuple[list[str], list[float]]:
    return [s for s, _ in SURNAMES], [w for _, w in SURNAMES]


def _given(rng: random.Random, male: bool) -> str:
    pool = GIVEN_MALE if male else GIVEN_FEMALE
    if rng.random() < 0.3:
        return rng.choice(pool)
    first = rng.choice(GIVEN_ANY + pool) if rng.random() < 0.5 else rng.choice(pool)
    return first + rng.choice(pool)


def person_name(rng: random.Random, male: bool) -> str:
    surnames, weights = _weights()
    return rng.choices(surnames, weights)[0] + _given(rng, male)


def id_for(birth: dt.date, male: bool, rng: random.Random, used: set[str] | None = None) -> str:
    """A valid ID number; with `used`, one not in it (a number is one person's)."""
    while True:
        sequence = rng.randrange(0, 500) * 2 + (1 if male else 0)
        first17 = f"{DISTRICT}{birth:%Y%m%d}{sequence:03d}"
        if used is None or first17 not in used:
            break
    if used is not None:
        used.add(first17)
    return first17 + id_check_char(first17)


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _address(rng: random.Random) -> str:
    if rng.random() < 0.3:
        street, community, estate = rng.choice(ESTATES)
        building, room = rng.randint(1, 30), rng.randint(1, 32) * 100 + rng.randint(1, 4)
        return f"江门市江海区{street}{community}{estate}{building}栋{room}房"
    street = rng.choice(list(STREETS))
    community = rng.choice(list(STREETS[street]))
    road = rng.choice(STREETS[street][community])
    number = rng.randint(1, 180)
    suffix = rng.choice(("", "", "", "", "之一", "之二"))
    return f"江门市江海区{street}{community}{road}{number}号{suffix}"


def make_people(n: int, seed: int) -> list[dict[str, Any]]:
    """n canonical people, `unique_id` P0000001 …, deterministic for a seed."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    start = dt.date(1930, 1, 1).toordinal()
    span = dt.date(2020, 12, 31).toordinal() - start
    people = []
    used: set[str] = set()
    for i in range(n):
        male = rng.random() < 0.51
        birth = dt.date.fromordinal(start + rng.randrange(span))
        people.append(
            {
                "unique_id": f"P{i + 1:07d}",
                "name": person_name(rng, male),
                "gender": "男" if male else "女",
                "birth_date": birth.isoformat(),
                "id_number": id_for(birth, male, rng, used),
                "phone": mobile(rng) if rng.random() < 0.9 else None,
                "address": _address(rng),
            }
        )
    return people


@functools.lru_cache(maxsize=1)
def _s2t() -> Any:
    import opencc

    return opencc.OpenCC("s2t")


_FULL = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")


def _noisy_name(name: str, rng: random.Random) -> str:
    roll = rng.random()
    surname_len = 2 if len(name) > 3 else 1
    if roll < 0.25:  # a homophone in one character
        spots = [i for i, c in enumerate(name) if c in _HOMOPHONE]
        if spots:
            i = rng.choice(spots)
            group = _HOMOPHONE[name[i]].replace(name[i], "")
            return name[:i] + rng.choice(group) + name[i + 1 :]
    elif roll < 0.35:  # traditional characters
        return _s2t().convert(name)
    elif roll < 0.42 and len(name) - surname_len == 2:  # the given name's characters swapped
        return name[:surname_len] + name[surname_len + 1] + name[surname_len]
    elif roll < 0.47:  # a typo
        i = rng.randrange(len(name))
        return name[:i] + rng.choice(TYPOS) + name[i + 1 :]
    elif roll < 0.52:  # spaces or a middle dot, as some systems write them
        return name[:surname_len] + rng.choice((" ", "　", "·")) + name[surname_len:]
    return name


def _noisy_id(value: str, rng: random.Random) -> str | None:
    roll = rng.random()
    if roll < 0.15:
        return None
    if roll < 0.22:  # two neighbouring digits swapped
        i = rng.randrange(6, 16)
        return value[:i] + value[i + 1] + value[i] + value[i + 2 :]
    if roll < 0.28:  # one digit wrong
        i = rng.randrange(6, 17)
        return value[:i] + str((int(value[i]) + rng.randint(1, 9)) % 10) + value[i + 1 :]
    if roll < 0.32 and value[6:8] == "19":  # the 15-digit legacy form
        return value[:6] + value[8:17]
    if roll < 0.37:
        return value.translate(_FULL)
    if roll < 0.40:
        return f"{value[:6]} {value[6:14]} {value[14:]}"
    return value.lower()


def _noisy_phone(value: str | None, rng: random.Random) -> str | None:
    roll = rng.random()
    if value is None or roll < 0.2:
        return None if roll < 0.9 else mobile(rng)
    if roll < 0.27:  # a new number
        return mobile(rng)
    if roll < 0.32:
        return "+86 " + value
    if roll < 0.37:
        return f"{value[:3]}-{value[3:7]}-{value[7:]}"
    if roll < 0.40:
        return value.translate(_FULL)
    return value


def _noisy_birth(value: str, rng: random.Random) -> str | None:
    roll = rng.random()
    year, month, day = value.split("-")
    if roll < 0.25:
        return None
    if roll < 0.30 and day[0] != day[1]:  # the day's digits transposed
        swapped = day[::-1]
        if "01" <= swapped <= "28":
            return f"{year}-{month}-{swapped}"
    if roll < 0.45:
        return f"{year}/{int(month)}/{int(day)}"
    if roll < 0.55:
        return f"{year}年{int(month)}月{int(day)}日"
    if roll < 0.65:
        return f"{year}{month}{day}"
    return value


def _noisy_address(value: str, rng: random.Random) -> str | None:
    roll = rng.random()
    if roll < 0.1:
        return None
    if roll < 0.15:
        return _address(rng)  # moved house
    text = value
    if rng.random() < 0.5:
        text = text.replace("江门市江海区", rng.choice(("", "江海区", "广东省江门市江海区")))
    if rng.random() < 0.3:
        text = text.replace("街道", "").replace("社区", "").replace("村", "", 1)
    if rng.random() < 0.2:
        text = text.replace("之一", "-1").replace("之二", "-2")
    if rng.random() < 0.2:
        text = text.translate(_FULL)
    return text


def noisy_copy(person: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The same person as another department's list holds them (unique_id left as it is)."""
    gender = person.get("gender")
    copy = {
        "unique_id": person["unique_id"],
        "name": _noisy_name(person["name"], rng),
        "gender": None
        if rng.random() < 0.3
        else rng.choice((gender, gender, "M" if gender == "男" else "F")),
        "birth_date": _noisy_birth(person["birth_date"], rng),
        "id_number": _noisy_id(person["id_number"], rng),
        "phone": _noisy_phone(person.get("phone"), rng),
        "address": _noisy_address(person["address"], rng) if person.get("address") else None,
    }
    if copy["id_number"] is None and copy["birth_date"] is None:
        # A list without the ID number records the birth date: a row with neither is rejected.
        copy["birth_date"] = person["birth_date"]
    return copy


def credit_code(rng: random.Random) -> str:
    org_chars = CREDIT_CHARS[:10] + "ABCDEFGHJKLMNPQRTUWXY"
    first17 = "91" + DISTRICT + "".join(rng.choice(org_chars) for _ in range(8))
    first17 += rng.choice(CREDIT_CHARS[:10])
    return first17 + credit_check_char(first17)


def make_organisations(n: int, seed: int) -> list[dict[str, Any]]:
    """n canonical organisations, `unique_id` O0000001 …, deterministic for a seed."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    organisations = []
    for i in range(n):
        brand = "".join(rng.sample(ORG_WORDS, 2))
        name = f"江门市江海区{brand}{rng.choice(ORG_TRADES)}{rng.choice(ORG_FORMS)}"
        organisations.append(
            {
                "unique_id": f"O{i + 1:07d}",
                "name": name,
                "credit_code": credit_code(rng),
                "legal_representative": person_name(rng, rng.random() < 0.6),
                "phone": mobile(rng),
                "address": _address(rng),
            }
        )
    return organisations


def noisy_organisation(org: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    name = org["name"]
    roll = rng.random()
    if roll < 0.3:
        name = name.replace("江门市江海区", rng.choice(("", "江海区", "江门市")), 1)
    elif roll < 0.4:
        name = name.replace("有限公司", "有限责任公司")
    elif roll < 0.5:
        name = _s2t().convert(name)
    code = org["credit_code"]
    roll = rng.random()
    if roll < 0.2:
        code = None
    elif roll < 0.28:
        i = rng.randrange(2, 16)
        code = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
    elif roll < 0.35:
        code = code.lower()
    return {
        "unique_id": org["unique_id"],
        "name": name,
        "credit_code": code,
        "legal_representative": _noisy_name(org["legal_representative"], rng)
        if rng.random() < 0.9
        else None,
        "phone": _noisy_phone(org.get("phone"), rng),
        "address": _noisy_address(org["address"], rng),
    }
