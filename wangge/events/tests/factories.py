"""Events with a history, made directly as rows (not through the workflow) for the tests that
count them: the dashboard's facts against the indicators. Each event is consistent with the
workflow's rules (a closed event has its close time; counts and flags as the workflow keeps
them), and the mix is random but seeded."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone

from wangge.events.models import Category, Channel, Event, Status

STATUSES = [
    (Status.CLOSED, 60),
    (Status.DISPATCHED, 8),
    (Status.HANDLING, 6),
    (Status.VERIFYING, 4),
    (Status.FILED, 5),
    (Status.PENDING, 5),
    (Status.REJECTED, 4),
    (Status.RETURNED, 3),
]


def history(
    grids: list[str],
    *,
    n: int = 300,
    start: dt.datetime,
    days: int = 60,
    departments: tuple[str, ...] = ("chengguan", ""),
    seed: int = 7,
) -> list[Event]:
    """`n` events spread over `days` days from `start` in `grids`, in every status but merged."""
    rng = random.Random(seed)
    categories = list(Category.objects.filter(parent__isnull=False, active=True))
    statuses = [s for s, w in STATUSES for _ in range(w)]
    channels = list(Channel.values)
    rows = []
    for i in range(n):
        created = start + dt.timedelta(minutes=rng.randrange(days * 24 * 60))
        status = rng.choice(statuses)
        department = rng.choice(departments) if status not in {Status.PENDING} else ""
        fields: dict[str, Any] = {
            "category": rng.choice(categories),
            "title": f"历史事件{i}",
            "channel": rng.choice(channels),
            "status": status,
            "grid_code": rng.choice(grids),
            "department_code": department,
            "handler_department": department,
            "created_at": created,
            "updated_at": created,
            "due_at": created + dt.timedelta(days=rng.choice([1, 3, 5])),
            "overdue": rng.random() < 0.15,
            "return_count": rng.choice([0, 0, 0, 1]),
            "rework_count": rng.choice([0, 0, 0, 0, 1]),
            "extend_count": rng.choice([0, 0, 0, 0, 1]),
            "park_count": rng.choice([0, 0, 0, 0, 0, 1]),
        }
        if status == Status.CLOSED:
            closed = created + dt.timedelta(hours=rng.randrange(1, 24 * 12))
            fields |= {
                "closed_at": closed,
                "updated_at": closed,
                "on_time": not fields["overdue"],
                "handling_seconds": int((closed - created).total_seconds()),
            }
        rows.append(Event(**fields))
    return Event.objects.bulk_create(rows)


def local(year: int, month: int, day: int, hour: int = 0) -> dt.datetime:
    """A moment in the district's time zone."""
    return dt.datetime(year, month, day, hour, tzinfo=timezone.get_current_timezone())
