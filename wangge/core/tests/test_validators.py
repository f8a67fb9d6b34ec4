from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wangge.core.personal import mask_id_number, mask_phone
from wangge.core.validators import (
    CREDIT_CHARS,
    InvalidCode,
    credit_check_char,
    id_check_char,
    parse_credit_code,
    parse_id_number,
    parse_mobile,
)


def test_published_examples() -> None:
    assert parse_id_number("11010519491231002X").gender == "female"
    assert parse_credit_code("91350200MA2YJ1XR9G") == "91350200MA2YJ1XR9G"
    assert parse_credit_code("91350200776049653A") == "91350200776049653A"


def test_normalisation_of_id_numbers() -> None:
    assert parse_id_number("１１０１０５ 1949 1231 002x").value == "11010519491231002X"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("110105194912310021", "id_check"),
        ("110105194902300021", "id_birth_date"),
        ("11010519491231", "id_format"),
        ("110105491231002", "legacy_id"),
    ],
)
def test_bad_id_numbers(value: str, code: str) -> None:
    with pytest.raises(InvalidCode) as info:
        parse_id_number(value)
    assert info.value.code == code and info.value.message


digits = st.text(alphabet="0123456789", min_size=3, max_size=3)


@given(
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 12, 31)),
    digits,
    st.sampled_from(["440704", "110105", "440781"]),
)
def test_any_well_formed_id_number_round_trips(birth: dt.date, seq: str, region: str) -> None:
    first17 = f"{region}{birth:%Y%m%d}{seq}"
    value = first17 + id_check_char(first17)
    parsed = parse_id_number(value.lower())
    assert parsed.value == value and parsed.birth_date == birth
    assert parsed.gender == ("male" if int(seq[-1]) % 2 else "female")


@given(st.text(alphabet="0123456789", min_size=17, max_size=17), st.sampled_from("0123456789X"))
def test_exactly_one_check_char_is_accepted(first17: str, check: str) -> None:
    codes = set()
    try:
        parse_id_number(first17 + check)
    except InvalidCode as exc:
        codes.add(exc.code)
    if not codes:
        assert check == id_check_char(first17)
    else:
        assert codes <= {"id_check", "id_birth_date"}


@given(st.text(alphabet=CREDIT_CHARS, min_size=17, max_size=17))
def test_credit_codes_with_their_check_char_pass(first17: str) -> None:
    assert parse_credit_code(first17 + credit_check_char(first17)) == first17 + credit_check_char(
        first17
    )


def test_credit_code_rejects_forbidden_letters() -> None:
    with pytest.raises(InvalidCode):
        parse_credit_code("91350200MA2YJ1XRIO")


@pytest.mark.parametrize(
    "value", ["13800138000", "+86 138 0013 8000", "86-13800138000", "１３８００１３８０００"]
)
def test_mobile_numbers(value: str) -> None:
    assert parse_mobile(value) == "13800138000"


@pytest.mark.parametrize("value", ["12800138000", "1380013800", "23800138000"])
def test_bad_mobile_numbers(value: str) -> None:
    with pytest.raises(InvalidCode):
        parse_mobile(value)


def test_masks() -> None:
    assert mask_id_number("44070419900101123X") == "440704************"
    assert mask_phone("13812341234") == "138****1234"
