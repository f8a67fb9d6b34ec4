"""Normalising the fields that people are linked on: ID numbers, names, phones, birth dates,
gender. Pure functions on plain strings; every one accepts None and junk and never raises.

The ID number's check digit is GB 11643's, reimplemented here because `wangge.core.validators`
imports Django (for its messages) and the engine must not.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

_SPACES = re.compile(r"[\s\-_]+")
_NAME_DROP = re.compile(r"[\s·・•.．。,，、'\"()（）\[\]【】|｜]+")
_NON_DIGITS = re.compile(r"\D+")


def fold(text: str) -> str:
    """Full-width forms (１２３, ＡＢＣ, the ideographic space) folded to ASCII."""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def id_check_char(first17: str) -> str:
    return ID_CHECK[sum(map(operator.mul, map(int, first17), ID_WEIGHTS)) % 11]


def credit_check_char(first17: str) -> str:
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARS[(31 - total % 31) % 31]


def id_number(text: str | None) -> str | None:
    """An ID number cleaned for comparison: folded, spaces gone, `x` → `X`, a 15-digit legacy
    number made 18 (century 19 and the check digit). The checksum is not enforced: a mistyped
    number is still evidence for the model."""
    if text is None:
        return None
    value = _SPACES.sub("", fold(str(text))).upper()
    if not value:
        return None
    if len(value) == 15 and value.isdigit():
        first17 = value[:6] + "19" + value[6:]
        return first17 + id_check_char(first17)
    return value


def id_valid(value: str | None) -> bool:
    """Whether an 18-character number's check digit and birth date hold."""
    if not value or len(value) != 18 or not value[:17].isdigit():
        return False
    return id_check_char(value[:17]) == value[17] and birth_from_id(value) is not None


def credit_code(text: str | None) -> str | None:
    if text is None:
        return None
    value = _SPACES.sub("", fold(str(text))).upper()
    return value or None


@functools.lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


@functools.lru_cache(maxsize=200_000)
def name(text: str | None) -> str:
    """A name for comparison: traditional → simplified, full-width folded, spaces and middle
    dots (阿卜杜·热合曼) removed, Latin letters upper-cased."""
    if not text:
        return ""
    value = _NAME_DROP.sub("", fold(str(text)))
    if not value.isascii():
        value = _t2s().convert(value)
    return value.upper()


# Surnames read otherwise than their commonest reading (曾 is zeng as a surname, not ceng).
SURNAME_READINGS = {
    "曾": "zeng", "单": "shan", "解": "xie", "查": "zha", "仇": "qiu", "朴": "piao", "区": "ou",
    "覃": "qin", "尉": "yu", "乐": "yue", "翟": "zhai", "盖": "ge", "缪": "miao", "种": "chong",
    "秘": "bi", "召": "shao", "都": "du", "便": "pian", "长": "chang", "柏": "bai", "员": "yun",
    "宓": "mi", "沈": "shen", "石": "shi", "重": "chong", "任": "ren", "华": "hua", "曲": "qu",
}  # fmt: skip


@functools.lru_cache(maxsize=50_000)
def _char_pinyin(char: str) -> str:
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(char)).lower()


def names(texts: Sequence[str | None]) -> list[str]:
    """`name` of many at once: one NFKC pass and one OpenCC call over all of them."""
    cleaned = [str(t).replace("|", "").replace("｜", "") if t else "" for t in texts]
    joined = _NAME_DROP.sub("", fold("|".join(cleaned)))
    if not joined.isascii():
        joined = _t2s().convert(joined)
    result = joined.upper().split("|")
    if len(result) != len(cleaned):  # a character that folds into "|": one by one instead
        return [name(t) for t in cleaned]
    return result


def name_pinyin(text: str | None) -> str:
    """Toneless pinyin of the normalised name, syllables joined by spaces (王晓明 → wang xiao ming;
    汪晓明 and 王小明 give the same). Character by character (pypinyin's lazy_pinyin, cached per
    character: a name is no phrase), the surname by its reading as a surname."""
    return pinyin(name(text))


def pinyin(value: str) -> str:
    """`name_pinyin` of an already normalised name."""
    if not value:
        return ""
    if value.isascii():
        return value.lower()
    first = SURNAME_READINGS.get(value[0]) or _char_pinyin(value[0])
    return " ".join([first, *map(_char_pinyin, value[1:])])


def phone(text: str | None) -> str | None:
    """Digits only, a +86 / 0086 prefix dropped (an 86 prefix on a 13-digit mobile too)."""
    if text is None:
        return None
    value = _NON_DIGITS.sub("", fold(str(text)))
    if value.startswith("0086"):
        value = value[4:]
    elif value.startswith("86") and len(value) == 13:
        value = value[2:]
    return value or None


def _date(year: int, month: int, day: int) -> str | None:
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def birth_date(text: Any) -> str | None:
    """'YYYY-MM-DD' from 1950-03-04, 1950/3/4, 1950.3.4, 19500304, 1950年3月4日, an Excel serial
    number (as a number or its text) or a date/datetime; None if it is not a date."""
    if text is None:
        return None
    if isinstance(text, dt.datetime):
        return text.date().isoformat()
    if isinstance(text, dt.date):
        return text.isoformat()
    if isinstance(text, int | float) and not isinstance(text, bool):
        return _excel(float(text))
    value = fold(str(text)).strip()
    if not value:
        return None
    match = _DATE.match(value)
    if match:
        return _date(int(match[1]), int(match[2]), int(match[3]))
    if len(value) == 8 and value.isdigit():
        return _date(int(value[:4]), int(value[4:6]), int(value[6:]))
    try:
        serial = float(value)
    except ValueError:
        return None
    return _excel(serial)


def _excel(serial: float) -> str | None:
    # Excel's serial day numbers (1900 system): 1 is 1900-01-01, 60 the fictitious 29 February.
    if not 61 <= serial < 2_958_466:
        return None
    return (_EXCEL_EPOCH + dt.timedelta(days=int(serial))).isoformat()


def birth_from_id(id18: str | None) -> str | None:
    if not id18 or len(id18) != 18 or not id18[6:14].isdigit():
        return None
    year = int(id18[6:10])
    if year < 1880:
        return None
    return _date(year, int(id18[10:12]), int(id18[12:14]))


def gender_from_id(id18: str | None) -> str | None:
    if not id18 or len(id18) != 18 or not id18[16].isdigit():
        return None
    return "男" if int(id18[16]) % 2 == 1 else "女"


_GENDERS = {
    "男": "男",
    "男性": "男",
    "m": "男",
    "male": "男",
    "1": "男",
    "女": "女",
    "女性": "女",
    "f": "女",
    "female": "女",
    "2": "女",
}


def gender(text: Any) -> str | None:
    if text is None:
        return None
    return _GENDERS.get(fold(str(text)).strip().lower())
