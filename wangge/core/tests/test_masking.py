"""Security finding 2: the masked ID number plus what else is shown must not rebuild the number.

Before, the mask kept the first 6 and the last 4 characters and the birth date was shown beside
it: 6 + 8 + 4 = all 18. This test counts, for what a screen or export now shows of a person
(the masked number, the birth year, the gender), how many check-digit-valid numbers fit: far too
many to guess, and every one of them is refused by exact search for roles that may not reveal.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from wangge.core.personal import birth_year, mask_id_number
from wangge.core.validators import ID_CHECK, ID_WEIGHTS


def _check(first17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def candidates(masked: str, year: int | None, male: bool | None) -> int:
    """Check-valid numbers consistent with the shown fields (brute force over the hidden part)."""
    shown = masked.rstrip("*")
    assert len(masked) == 18 and set(masked[len(shown) :]) == {"*"}
    region = shown[:6]
    assert len(shown) == 6, "only the region may stay visible"
    del region  # shown, so fixed
    years = [year] if year else range(1900, 2027)
    # With the check character hidden, every (date, sequence) gives exactly one valid number.
    days = sum((dt.date(y + 1, 1, 1) - dt.date(y, 1, 1)).days for y in years)
    sequences = sum(1 for s in range(1000) if male is None or (s % 2 == 1) == male)
    return days * sequences


def _id_number(region: str, born: dt.date, seq: int) -> str:
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    return first17 + _check(first17)


@settings(max_examples=25, deadline=None)
@given(
    born=st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date(2020, 12, 31)),
    seq=st.integers(0, 999),
)
def test_no_shown_combination_rebuilds_the_number(born: dt.date, seq: int) -> None:
    number = _id_number("440704", born, seq)
    masked = mask_id_number(number)
    assert masked == "440704" + "*" * 12
    # What lists, exports and the person page show beside it: the year and the gender.
    left = candidates(masked, birth_year(born), male=seq % 2 == 1)
    assert left >= 150_000
    # The old mask with the birth date beside it left exactly one candidate.
    old = f"{number[:6]}{'*' * 8}{number[-4:]}"
    fits = [
        s
        for s in range(1000)
        if f"{old[:6]}{born:%Y%m%d}{s:03d}"[-3:] == old[14:17]
        and _check(f"{old[:6]}{born:%Y%m%d}{s:03d}") == old[-1]
    ]
    assert fits == [seq]
