"""Free-text Jianghai addresses parsed into the standard parts (no database)."""

from __future__ import annotations

import pytest

from wangge.linkage.engine.address import (
    KnownPlaces,
    address_key,
    cn_number,
    house_key,
    parse_address,
    without_admin,
)

KNOWN = KnownPlaces(
    streets=["礼乐街道", "外海街道", "江南街道"],
    communities=["英南村", "乌纱村", "威东村", "金溪社区", "滘头社区"],
    estates=["金汇花园", "华侨城"],
    roads=["五坊大街", "东海路", "江睦路", "威东路"],
)


def test_a_full_address() -> None:
    parse = parse_address("广东省江门市江海区礼乐街道英南村五坊大街3号之一")
    assert parse.parts == {
        "province": "广东省",
        "city": "江门市",
        "district": "江海区",
        "street": "礼乐街道",
        "community": "英南村",
        "road": "五坊大街",
        "number": "3号",
        "suffix": "之一",
    }
    assert parse.rules["street"] == "suffix:街道"
    assert parse.rules["community"] == "suffix:村"
    assert parse.rules["number"] == "pattern:号"


def test_an_abbreviation_resolves_through_the_known_places() -> None:
    parse = parse_address("礼乐英南五坊3号之一", known=KNOWN)
    assert parse.parts == {
        "street": "礼乐街道",
        "community": "英南村",
        "road": "五坊大街",
        "number": "3号",
        "suffix": "之一",
    }
    assert parse.rules == {
        "street": "known:street",
        "community": "known:community",
        "road": "known:road",
        "number": "pattern:号",
        "suffix": "pattern:之",
    }
    full = parse_address("江门市江海区礼乐街道英南村五坊大街3号之一", known=KNOWN)
    assert address_key(parse) == address_key(full) != ""
    # Without the district's names the abbreviation is read as one road: a different key.
    assert address_key(parse_address("礼乐英南五坊3号之一")) != address_key(full)


@pytest.mark.parametrize(
    "text",
    [
        "江海区外海街道乌纱村东海路12号",
        "外海乌纱东海路十二号",
        "外海街道乌纱村委会东海路１２号",
        "广东省江门市江海区外海街道乌纱村东海路12号",
    ],
)
def test_written_variants_give_one_key(text: str) -> None:
    assert address_key(parse_address(text, known=KNOWN)) == "乌纱|东海|12|||||"


def test_an_estate_with_building_unit_and_room() -> None:
    parse = parse_address("江南街道金汇花园5栋2单元301房")
    assert parse.parts == {
        "street": "江南街道",
        "estate": "金汇花园",
        "building": "5",
        "unit": "2",
        "room": "301",
    }
    assert parse.rules["building"] == "pattern:栋"
    assert house_key(parse) == house_key(parse_address("金汇花园5座2单元301")) == "金汇|5|2|301"


def test_dash_numbers_are_a_suffix() -> None:
    for text in ("威东村江睦路8-2号", "威东村江睦路8号-2", "威东村江睦路8号之二"):
        parse = parse_address(text)
        assert parse.parts["number"] == "8号"
        assert address_key(parse) == "威东|江睦|8|2||||"


def test_what_is_not_an_address() -> None:
    assert parse_address("").parts == {}
    assert address_key(parse_address("")) == ""
    assert parse_address("不详").parts == {"estate": "不详"}
    assert parse_address("不详").rules == {"estate": "rest"}


def test_chinese_numerals() -> None:
    assert [cn_number(t) for t in ("十二", "三百零五", "十", "二十", "07", "A")] == [
        "12",
        "305",
        "10",
        "20",
        "7",
        "A",
    ]


def test_a_community_is_no_district() -> None:
    assert parse_address("金溪社区金溪路39号").parts == {
        "community": "金溪社区",
        "road": "金溪路",
        "number": "39号",
    }
    assert parse_address("江海区金溪社区金溪路39号").parts["district"] == "江海区"
    assert without_admin("广东省江门市江海区金溪社区金溪路３９号") == "金溪社区金溪路39号"
    assert without_admin("金溪社区金溪路39号") == "金溪社区金溪路39号"
