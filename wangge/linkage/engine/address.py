"""Free-text addresses parsed into the standard address's parts.

江门市江海区礼乐街道英南村五坊大街3号之一 and 礼乐英南五坊3号之一 are the same house; the
parser reads the text left to right, one part after another, each by the first rule that fires:
a known place
of the district (the street, community, estate and road names the caller passes, so that an
abbreviation such as 礼乐 or 英南 resolves to 礼乐街道 / 英南村), then the part's suffix (街道, 村,
路, 号 …). `rules[part]` says which rule produced each part, so the reviewer sees the parse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from wangge.linkage.engine.normalise import fold

PARTS = (
    "province",
    "city",
    "district",
    "street",
    "community",
    "road",
    "number",
    "suffix",
    "estate",
    "building",
    "unit",
    "room",
)


@dataclass(frozen=True)
class AddressParse:
    text: str
    parts: dict[str, str]
    rules: dict[str, str]


@dataclass
class KnownPlaces:
    """The district's own names, from the ledger: an abbreviation resolves to one of them."""

    streets: list[str] = field(default_factory=list)
    communities: list[str] = field(default_factory=list)
    estates: list[str] = field(default_factory=list)
    roads: list[str] = field(default_factory=list)
    _index: dict[str, list[tuple[str, str]]] = field(default_factory=dict, init=False, repr=False)

    def forms(self, kind: str, first: str = "") -> list[tuple[str, str]]:
        """(written form, full name), longest first, of the forms starting with `first` (all
        with ''): each name and its stem without the suffix (礼乐街道 → 礼乐, 英南村 → 英南,
        五坊大街 → 五坊)."""
        key = f"{kind}:{first}"
        if key not in self._index:
            if first:
                self._index[key] = [p for p in self.forms(kind) if p[0].startswith(first)]
            else:
                pairs: dict[str, str] = {}
                for full in getattr(self, kind):
                    full = fold(full).strip()
                    if not full:
                        continue
                    pairs.setdefault(full, full)
                    stem = _SUFFIXES[kind].sub("", full)
                    if len(stem) >= 2 and stem != full:
                        pairs.setdefault(stem, full)
                self._index[key] = sorted(pairs.items(), key=lambda p: -len(p[0]))
        return self._index[key]


_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6}
_CN_DIGITS |= {"七": 7, "八": 8, "九": 9}


def cn_number(text: str) -> str:
    """Chinese numerals to Arabic ones (十二 → 12, 三百零五 → 305); other text unchanged."""
    if not text:
        return text
    if text.isdigit():
        return str(int(text))
    total, current = 0, 0
    for char in text:
        if char in _CN_DIGITS:
            current = _CN_DIGITS[char]
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        elif char == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return text
    return str(total + current)


_SINGULAR = {"streets": "street", "communities": "community", "estates": "estate", "roads": "road"}
_NUM = r"[0-9零〇一二两三四五六七八九十百]+"
_SUFFIXES = {
    "streets": re.compile(r"(街道办事处|街道办|街道|镇)$"),
    "communities": re.compile(r"(社区居委会|村民委员会|居委会|村委会|社区|村)$"),
    "estates": re.compile(r"(花园|小区|新村|公寓|大厦|广场|苑|庭|园|城)$"),
    "roads": re.compile(r"(大街|大道|路|街|巷|里|坊)$"),
}
_STEPS: list[tuple[str, str, re.Pattern[str]]] = [
    ("province", "suffix:省", re.compile(r"^(.{2,8}?(省|自治区))")),
    ("province", "name:广东", re.compile(r"^(广东)")),
    ("city", "suffix:市", re.compile(r"^(.{2,6}?市)")),
    ("city", "name:江门", re.compile(r"^(江门)")),
    # 区 but not 社区 (金溪社区 is a community), 县 but not 县城.
    ("district", "suffix:区", re.compile(r"^(.{2,6}?((?<!社)区|县(?!城)))")),
    ("street", "suffix:街道", re.compile(r"^(.{2,6}?(街道办事处|街道办|街道))")),
    ("street", "suffix:镇", re.compile(r"^(.{2,6}?镇)")),
    ("community", "suffix:社区", re.compile(r"^(.{2,8}?(社区居委会|社区))")),
    ("community", "suffix:村", re.compile(r"^(.{1,6}?村)(?:委会|民委员会)?")),
    ("community", "suffix:居委会", re.compile(r"^(.{2,8}?居委会)")),
]
_ROAD = re.compile(r"^(.{1,10}?(大街|大道|路|街|巷|里|坊))(?=" + _NUM + r"号|\d)")
_ESTATE = re.compile(r"^(.{2,10}?(花园|小区|新村|公寓|大厦|广场|苑|庭|园|城))")
_NUMBER = re.compile(
    r"^(" + _NUM + r")(?:[-—](\d+))?号(?:(之" + _NUM + r")|[-—](\d+)(?!\d*[栋幢座楼单室房]))?"
)
_BUILDING = re.compile(r"^(" + _NUM + r"|[A-Z])(?:栋|幢|座|号楼|楼)")
_UNIT = re.compile(r"^(" + _NUM + r")单元")
_ROOM = re.compile(r"^[-—]?(" + _NUM + r")(?:室|房|号房)?$")
_ROOM_SUFFIXED = re.compile(r"^[-—]?(" + _NUM + r")(?:室|房|号房)")
_BEFORE_NUMBER = re.compile(r"^(\D{1,6}?)(?=" + _NUM + r"号)")
_DROP = re.compile(r"[\s,，。、;；:：()（）#]+")


def parse_address(text: str, *, known: KnownPlaces | None = None) -> AddressParse:
    """Read the parts of a free-text address left to right (see the module's docstring)."""
    original = text or ""
    rest = _DROP.sub("", fold(original))
    parts: dict[str, str] = {}
    rules: dict[str, str] = {}

    def take(part: str, value: str, rule: str, length: int) -> None:
        nonlocal rest
        parts[part] = value
        rules[part] = rule
        rest = rest[length:]

    def known_form(kind: str, part: str) -> bool:
        if known is None or not rest:
            return False
        for form, full in known.forms(kind, rest[0]):
            if rest.startswith(form):
                # The written suffix after a stem belongs to the part (英南 + 村委会).
                after = rest[len(form) :]
                extra = _suffix_len(kind, after) if form != full else 0
                if kind == "communities" and full.endswith("村"):
                    extra += next((len(s) for s in ("民委员会", "委会") if after.startswith(s)), 0)
                take(part, full, f"known:{_SINGULAR[kind]}", len(form) + extra)
                return True
        return False

    for part, rule, pattern in _STEPS:
        if part in parts:
            continue
        if part == "street" and known_form("streets", "street"):
            continue
        if part == "community" and known_form("communities", "community"):
            continue
        match = pattern.match(rest)
        if match:
            take(part, match.group(1), rule, match.end())
    # Road and house number, or estate, building, unit and room (or both: a road number
    # of an estate).
    if not known_form("roads", "road"):
        match = _ROAD.match(rest)
        if match:
            take("road", match.group(1), "suffix:" + match.group(2), match.end())
    if "road" not in parts and not known_form("estates", "estate"):
        match = _BEFORE_NUMBER.match(rest)
        if match and not _ESTATE.match(rest):
            take("road", match.group(1), "pattern:before-号", match.end())
    match = _NUMBER.match(rest)
    if match:
        take("number", cn_number(match.group(1)) + "号", "pattern:号", match.end())
        if match.group(3):
            parts["suffix"] = match.group(3)
            rules["suffix"] = "pattern:之"
        elif match.group(2) or match.group(4):
            parts["suffix"] = "之" + (match.group(2) or match.group(4))
            rules["suffix"] = "pattern:-"
    if "estate" not in parts and not known_form("estates", "estate"):
        match = _ESTATE.match(rest)
        if match:
            take("estate", match.group(1), "suffix:" + match.group(2), match.end())
    match = _BUILDING.match(rest)
    if match:
        take("building", cn_number(match.group(1)), "pattern:栋", match.end())
    match = _UNIT.match(rest)
    if match:
        take("unit", cn_number(match.group(1)), "pattern:单元", match.end())
    match = _ROOM_SUFFIXED.match(rest) or (_ROOM.match(rest) if parts else None)
    if match:
        take("room", cn_number(match.group(1)), "pattern:室", match.end())
    if rest and "estate" not in parts and "road" not in parts:
        # Whatever is left, unread, is the likeliest estate or road name: kept, marked as such.
        parts["estate"] = rest
        rules["estate"] = "rest"
    return AddressParse(original, parts, rules)


_ADMIN = re.compile(r"^(?:.{2,8}?(?:省|自治区))?(?:.{2,6}?市)?(?:.{2,6}?(?:(?<!社)区|县(?!城)))?")


def without_admin(text: str) -> str:
    """The text without a leading province, city and district (folded, spaces removed): the
    part that `address_key` reads."""
    core = _DROP.sub("", fold(text))
    found = _ADMIN.match(core)  # every part optional: it always matches, perhaps empty
    return core[found.end() :] if found else core


def _suffix_len(kind: str, text: str) -> int:
    for suffix in ("街道办事处", "街道办", "街道", "镇") if kind == "streets" else ():
        if text.startswith(suffix):
            return len(suffix)
    if kind == "communities":
        for suffix in ("社区居委会", "村民委员会", "居委会", "村委会", "社区", "村"):
            if text.startswith(suffix):
                return len(suffix)
    if kind == "roads":
        for suffix in ("大街", "大道", "路", "街", "巷"):
            if text.startswith(suffix):
                return len(suffix)
    if kind == "estates":
        for suffix in ("花园", "小区", "新村", "公寓", "大厦", "广场", "苑", "园"):
            if text.startswith(suffix):
                return len(suffix)
    return 0


_STEM = {
    part: _SUFFIXES[kind]
    for kind, part in (
        ("communities", "community"),
        ("roads", "road"),
        ("estates", "estate"),
        ("streets", "street"),
    )
}


def _stem(part: str, value: str) -> str:
    """A name without its kind's suffix (英南村 → 英南), so that written variants compare equal."""
    pattern = _STEM.get(part)
    stem = pattern.sub("", value) if pattern else value
    return stem or value


def address_key(parse: AddressParse) -> str:
    """A comparable key of the house: community, road and number (with 之一), estate, building,
    unit and room, each without its suffix; '' when the parse found none of them."""
    p = parse.parts
    pieces = [
        _stem("community", p.get("community", "")),
        _stem("road", p.get("road", "")),
        p.get("number", "").removesuffix("号"),
        cn_number(p.get("suffix", "").removeprefix("之")),
        _stem("estate", p.get("estate", "")),
        p.get("building", ""),
        p.get("unit", ""),
        p.get("room", ""),
    ]
    return "|".join(pieces) if any(pieces) else ""


def house_key(parse: AddressParse) -> str:
    """The house without the community: road + number (+ 之) or estate + building + room."""
    p = parse.parts
    road = _stem("road", p.get("road", ""))
    number = p.get("number", "").removesuffix("号")
    if road and number:
        suffix = cn_number(p.get("suffix", "").removeprefix("之"))
        return f"{road}|{number}|{suffix}|{p.get('room', '')}"
    estate = _stem("estate", p.get("estate", ""))
    if estate and (p.get("building") or p.get("room")):
        return f"{estate}|{p.get('building', '')}|{p.get('unit', '')}|{p.get('room', '')}"
    return ""


def community_key(parse: AddressParse) -> str:
    return _stem("community", parse.parts.get("community", ""))
