"""Office hours (pure; also used by settings to check WANGGE_OFFICE_HOURS)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import pairwise


@dataclass(frozen=True)
class Period:
    start: dt.time
    end: dt.time

    @property
    def minutes(self) -> int:
        return (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)


def parse_office_hours(text: str) -> tuple[Period, ...]:
    """'08:30-12:00,14:00-17:30' → periods, sorted, non-overlapping (ValueError otherwise)."""
    periods = []
    for part in text.split(","):
        start_s, _sep, end_s = part.strip().partition("-")
        start, end = dt.time.fromisoformat(start_s.strip()), dt.time.fromisoformat(end_s.strip())
        if end <= start:
            raise ValueError(f"office period {part!r} ends before it starts")
        periods.append(Period(start, end))
    periods.sort(key=lambda p: p.start)
    for a, b in pairwise(periods):
        if b.start < a.end:
            raise ValueError(f"office periods {a} and {b} overlap")
    if not periods:
        raise ValueError("no office periods")
    return tuple(periods)
