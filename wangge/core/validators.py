"""Pure validators for Chinese identifiers (no database, no I/O): ID numbers (GB 11643),
unified social credit codes (GB 32100) and mobile numbers. Each returns the normalised value
or raises InvalidCode with a stable code and a Chinese-ready message."""

from __future__ import annotations

import datetime as dt
import operator
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


class InvalidCode(ValueError):
    def __init__(self, code: str, message: Any):
        super().__init__(code)
        self.code = code
        self._message = message

    @property
    def message(self) -> str:
        return str(self._message)


_SPACES = re.compile(r"[\s\-]+")


def _clean(value: str) -> str:
    if value.isascii():
        # The common case: skip Unicode normalisation (only full-width input needs it).
        return _SPACES.sub("", value).upper() if not value.isalnum() else value.upper()
    return _SPACES.sub("", unicodedata.normalize("NFKC", value or "")).upper()


def id_check_char(first17: str) -> str:
    return ID_CHECK[sum(map(operator.mul, map(int, first17), ID_WEIGHTS)) % 11]


@dataclass(frozen=True)
class IdNumber:
    value: str
    birth_date: dt.date
    gender: str  # "male" | "female"
    region: str


def parse_id_number(value: str, *, today: dt.date | None = None) -> IdNumber:
    """Validate an 18-character resident ID number; full-width, spaces and x are normalised."""
    text = _clean(value)
    if len(text) == 15 and text.isdigit():
        raise InvalidCode(
            "legacy_id", _("A 15-digit legacy ID number: convert it to 18 digits first.")
        )
    if len(text) != 18 or not text[:17].isdigit() or text[17] not in "0123456789X":
        raise InvalidCode(
            "id_format",
            _("An ID number has 18 characters: 17 digits and a check digit (0–9 or X)."),
        )
    try:
        birth = dt.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise InvalidCode(
            "id_birth_date", _("The birth date inside the ID number does not exist.")
        ) from None
    today = today or dt.date.today()  # noqa: DTZ011 - a calendar date, not an instant
    if birth > today or birth.year < 1880:
        raise InvalidCode(
            "id_birth_date", _("The birth date inside the ID number is not plausible.")
        )
    if id_check_char(text[:17]) != text[17]:
        raise InvalidCode(
            "id_check", _("The ID number's check digit is wrong; please check the number.")
        )
    gender = "male" if int(text[16]) % 2 == 1 else "female"
    return IdNumber(text, birth, gender, text[:6])


def normalise_id_number(value: str) -> str:
    return parse_id_number(value).value


_MOBILE = re.compile(r"1[3-9]\d{9}")


def parse_mobile(value: str) -> str:
    """An 11-digit mainland mobile number, with an optional +86/86 prefix removed."""
    if len(value) == 11 and _MOBILE.fullmatch(value):
        return value
    digits = re.sub(r"[^0-9+]", "", unicodedata.normalize("NFKC", value or ""))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not re.fullmatch(r"1[3-9]\d{9}", digits):
        raise InvalidCode("mobile_format", _("A mobile number has 11 digits starting with 1."))
    return digits


def credit_check_char(first17: str) -> str:
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARS[(31 - total % 31) % 31]


def parse_credit_code(value: str) -> str:
    """An 18-character unified social credit code (GB 32100-2015)."""
    text = _clean(value)
    if len(text) != 18 or any(c not in CREDIT_CHARS for c in text):
        raise InvalidCode(
            "credit_format", _("A credit code has 18 digits or capital letters (no I, O, Z, S, V).")
        )
    if credit_check_char(text[:17]) != text[17]:
        raise InvalidCode(
            "credit_check", _("The credit code's check character is wrong; please check the code.")
        )
    return text
