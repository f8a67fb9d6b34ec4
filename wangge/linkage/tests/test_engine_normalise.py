"""The engine's normalising of the fields people are linked on (no database)."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from wangge.core import validators
from wangge.linkage.engine import noise, normalise


def test_id_numbers_are_folded_and_legacy_numbers_made_18() -> None:
    assert normalise.id_number(" １１０１０５ 1949 1231 002x ") == "11010519491231002X"
    assert normalise.id_number("11010519491231002x") == "11010519491231002X"
    # 15 digits: century 19 inserted and the check digit computed.
    assert normalise.id_number("110105491231002") == "11010519491231002X"
    assert validators.parse_id_number("11010519491231002X").gender == "female"
    assert normalise.id_number("") is None
    assert normalise.id_number("   ") is None
    assert normalise.id_number(None) is None
    # A wrong check digit is kept for the model to weigh.
    assert normalise.id_number("110105194912310022") == "110105194912310022"
    assert not normalise.id_valid("110105194912310022")
    assert normalise.id_valid("11010519491231002X")


def test_check_characters_agree_with_the_core_validators() -> None:
    rng = random.Random(7)
    for _ in range(200):
        first17 = "".join(rng.choice("0123456789") for _ in range(17))
        assert normalise.id_check_char(first17) == validators.id_check_char(first17)
        code = noise.credit_code(rng)
        assert validators.parse_credit_code(code) == code


def test_names() -> None:
    assert normalise.name("張 曉明") == "张晓明"
    assert normalise.name("阿卜杜·热合曼") == "阿卜杜热合曼"
    assert normalise.name("玛丽・安") == "玛丽安"
    assert normalise.name("ＬＩ　Ｍｉｎｇ") == "LIMING"
    assert normalise.name(None) == ""
    assert normalise.name_pinyin("王晓明") == "wang xiao ming"
    assert normalise.name_pinyin("王小明") == normalise.name_pinyin("汪曉明") == "wang xiao ming"
    assert normalise.name_pinyin("曾小贤") == "zeng xiao xian"  # 曾 read as a surname
    assert normalise.name_pinyin("") == ""


def test_phones() -> None:
    assert normalise.phone("+86 138-0013-8000") == "13800138000"
    assert normalise.phone("0086 13800138000") == "13800138000"
    assert normalise.phone("8613800138000") == "13800138000"
    assert normalise.phone("１３８００１３８０００") == "13800138000"
    assert normalise.phone("0750-3861234") == "07503861234"
    assert normalise.phone("") is None
    assert normalise.phone("无") is None


@pytest.mark.parametrize(
    "text",
    [
        "1950-03-04",
        "1950/3/4",
        "1950.3.4",
        "19500304",
        "1950年3月4日",
        "１９５０年３月４日",
        18326,
        "18326",
        dt.date(1950, 3, 4),
        dt.datetime(1950, 3, 4, 8, 30),  # noqa: DTZ001 - a cell's value, not an instant
    ],
)
def test_birth_dates(text: object) -> None:
    assert normalise.birth_date(text) == "1950-03-04"


@pytest.mark.parametrize("text", [None, "", "不详", "1950-02-30", "19501304", "12", True])
def test_birth_dates_that_are_not(text: object) -> None:
    assert normalise.birth_date(text) is None


def test_birth_date_and_gender_from_the_id() -> None:
    assert normalise.birth_from_id("11010519491231002X") == "1949-12-31"
    assert normalise.gender_from_id("11010519491231002X") == "女"
    assert normalise.gender_from_id("440704198001011234") == "男"
    assert normalise.birth_from_id("440704198002301234") is None
    assert normalise.birth_from_id("4407041980") is None
    assert normalise.gender_from_id(None) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("男", "男"),
        ("女性", "女"),
        ("M", "男"),
        ("f", "女"),
        ("Male", "男"),
        ("female", "女"),
        ("1", "男"),
        ("2", "女"),
        (1, "男"),
        ("", None),
        ("未知", None),
        (None, None),
    ],
)
def test_gender(text: object, expected: str | None) -> None:
    assert normalise.gender(text) == expected


def test_names_in_one_batch_are_names_one_by_one() -> None:
    texts = [
        "張 曉明",
        None,
        "",
        "玛丽・安",
        "ＬＩ｜Ｍｉｎｇ",
        "王|小明",
        "阿卜杜·热合曼",
        "鄭國強",
    ]
    assert normalise.names(texts) == [normalise.name(t) for t in texts]
