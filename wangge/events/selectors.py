"""Reads of events: inboxes, one event with its log, indicators. Everything is scoped."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Avg, Count, F, Q, QuerySet
from django.db.models.functions import Substr

from wangge.core.errors import NotFound, ValidationFailed
from wangge.core.roles import Perm
from wangge.core.scope import access, as_scope, require_any
from wangge.events.models import (
    OPEN_STATUSES,
    Category,
    Event,
    EventAction,
    EventPhoto,
    Notification,
    Status,
)

BOXES = ("all", "mine", "todo", "department", "overdue", "verify", "pending", "closed")


def event_list(
    *,
    actor: Any,
    box: str = "all",
    status: str = "",
    grid: str = "",
    category: str = "",
    q: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[Event]:
    """Events in scope, narrowed to an inbox:

    - mine: events in my grid(s) (grid roles) or reported by me;
    - todo: what waits for me: the actions my roles can take (accept/dispatch/close for centres,
      handle for departments, verify for grid workers);
    - department: dispatched to my department; overdue; verify (waiting for verification);
      pending (waiting for acceptance); closed.
    """
    scope = as_scope(actor)
    if not scope.has(Perm.EVENTS_VIEW):
        raise NotFound()
    qs = Event.objects.visible_to(scope, Perm.EVENTS_VIEW).select_related("category")
    open_ = list(OPEN_STATUSES)
    if box == "mine":
        grids = [
            g.region_code for g in scope.grants_for(Perm.EVENTS_REPORT) if len(g.region_code) == 15
        ]
        qs = qs.filter(Q(grid_code__in=grids) | Q(reporter_id=scope.user_id))
    elif box == "todo":
        wanted = Q(pk__in=[])
        if scope.has(Perm.EVENTS_COMMAND):
            wanted |= Q(status__in=[Status.PENDING, Status.FILED, Status.RETURNED, Status.VERIFIED])
        if scope.has(Perm.EVENTS_HANDLE):
            wanted |= Q(status__in=[Status.DISPATCHED, Status.HANDLING])
        if scope.has(Perm.EVENTS_VERIFY):
            wanted |= Q(status=Status.VERIFYING)
        if scope.has(Perm.EVENTS_REPORT):
            wanted |= Q(status=Status.FILED, category__self_resolve=True)
        qs = qs.filter(wanted)
    elif box == "department":
        qs = qs.filter(status__in=[Status.DISPATCHED, Status.HANDLING]).exclude(department_code="")
    elif box == "overdue":
        qs = qs.filter(status__in=open_, overdue=True)
    elif box == "verify":
        qs = qs.filter(status=Status.VERIFYING)
    elif box == "pending":
        qs = qs.filter(status=Status.PENDING)
    elif box == "closed":
        qs = qs.filter(status=Status.CLOSED)
    elif box != "all":
        raise ValidationFailed(code="unknown_box", details={"box": box, "known": BOXES})
    if status:
        qs = qs.filter(status=status)
    if grid:
        qs = qs.filter(grid_code__startswith=grid)
    if category:
        qs = qs.filter(Q(category__code=category) | Q(category__parent__code=category))
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(description__icontains=q))
    if since:
        qs = qs.filter(created_at__gte=since)
    if until:
        qs = qs.filter(created_at__lt=until)
    return qs


def event_get(*, actor: Any, event_id: int) -> Event:
    return access(
        Event.objects.select_related("category", "category__parent", "merged_into"),
        actor,
        Perm.EVENTS_VIEW,
        pk=event_id,
    )


def event_by_tracking_code(*, actor: Any, code: str) -> Event:
    """A report by its tracking code, for the public tracking page (public reports only)."""
    code = (code or "").strip().upper()
    if not code or len(code) > 16:
        raise NotFound()
    return access(
        Event.objects.select_related("category"),
        actor,
        Perm.EVENTS_PUBLIC_TRACK,
        tracking_code=code,
    )


def event_duplicates(*, actor: Any, event: Event) -> list[Event]:
    """Open events the actor may see that look like this one (same category, nearby)."""
    from wangge.events.intake import duplicate_candidates

    if not event.is_open:
        return []
    return duplicate_candidates(
        actor=actor,
        category_id=event.category_id,
        lon=event.lon,
        lat=event.lat,
        now=event.created_at,
        exclude=event.pk,
    )


def event_timeline(*, actor: Any, event: Event) -> list[EventAction]:
    """The log of an event the actor fetched in scope (the public: its public steps only)."""
    scope = as_scope(actor)
    perm = Perm.EVENTS_PUBLIC_TRACK if scope.is_public else Perm.EVENTS_VIEW
    return list(
        EventAction.objects.visible_to(scope, perm).filter(event=event).select_related("actor")
    )


def event_photos(*, actor: Any, event: Event) -> list[EventPhoto]:
    return list(EventPhoto.objects.visible_to(actor, Perm.EVENTS_VIEW).filter(event=event))


def event_photo_get(*, actor: Any, event: Event, photo_id: int) -> EventPhoto:
    return access(EventPhoto.objects.filter(event=event), actor, Perm.EVENTS_VIEW, pk=photo_id)


def categories(*, public_only: bool = False) -> list[Category]:
    qs = Category.objects.filter(active=True).select_related("parent", "department")
    if public_only:
        qs = qs.filter(public=True)
    return list(qs.order_by("parent__sort", "parent__code", "sort", "code"))


def notifications(*, actor: Any, unread_only: bool = False) -> QuerySet[Notification]:
    """The actor's own notifications (nobody reads another's)."""
    scope = require_any(actor, Perm.EVENTS_VIEW)
    qs = Notification.objects.visible_to(scope, Perm.EVENTS_VIEW).select_related("event")
    return qs.filter(read_at__isnull=True) if unread_only else qs


def home_counts(*, actor: Any) -> dict[str, int]:
    """The start page's events card: what waits for me, what is overdue, unread messages."""
    return {
        "todo": event_list(actor=actor, box="todo").count(),
        "overdue": event_list(actor=actor, box="overdue").count(),
        "unread": unread_count(actor=actor),
    }


def unread_count(*, actor: Any) -> int:
    """The unread-notification count in the header (0 for anyone without events)."""
    scope = as_scope(actor)
    if not scope.has(Perm.EVENTS_VIEW) or scope.user_id is None:
        return 0
    return notifications(actor=scope, unread_only=True).count()


# --- indicators -------------------------------------------------------------------------------

DIMENSIONS = {
    "department": None,
    "street": 9,
    "community": 12,
    "grid": 15,
}
SHOULD_CLOSE = [
    s for s in Status.values if s not in {Status.PENDING, Status.REJECTED, Status.MERGED}
]


def indicators(
    *,
    actor: Any,
    by: str,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """结案率, 按期结案率 and the counts, per department / street / community / grid.

    Should-close = filed events (not pending, rejected or merged) created in the period; the
    rates are closed / should-close and closed-on-time / should-close."""
    if by not in DIMENSIONS:
        raise ValidationFailed(
            code="unknown_dimension", details={"by": by, "known": list(DIMENSIONS)}
        )
    qs = event_list(actor=actor, since=since, until=until).filter(status__in=SHOULD_CLOSE)
    width = DIMENSIONS[by]
    key = F("handler_department") if width is None else Substr("grid_code", 1, width)
    rows = (
        qs.order_by()
        .annotate(key=key)
        .values("key")
        .annotate(
            should_close=Count("id"),
            closed=Count("id", filter=Q(status=Status.CLOSED)),
            closed_on_time=Count("id", filter=Q(status=Status.CLOSED, on_time=True)),
            overdue=Count("id", filter=Q(overdue=True)),
            returned=Count("id", filter=Q(return_count__gt=0)),
            reworked=Count("id", filter=Q(rework_count__gt=0)),
            extended=Count("id", filter=Q(extend_count__gt=0)),
            parked=Count("id", filter=Q(park_count__gt=0)),
            avg_seconds=Avg("handling_seconds"),
        )
        .order_by("key")
    )
    return [_rates(row) for row in rows]


def _rates(row: Any) -> dict[str, Any]:
    n = row["should_close"] or 0
    avg = row.pop("avg_seconds")
    return row | {
        "key": row["key"] or "",
        "close_rate": round(row["closed"] / n, 4) if n else None,
        "on_time_rate": round(row["closed_on_time"] / n, 4) if n else None,
        "avg_handling_hours": round(float(avg) / 3600, 1) if avg is not None else None,
    }


def indicators_total(rows: list[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {"key": "", "should_close": 0}
    for name in (
        "closed",
        "closed_on_time",
        "overdue",
        "returned",
        "reworked",
        "extended",
        "parked",
    ):
        total[name] = sum(r[name] for r in rows)
    total["should_close"] = sum(r["should_close"] for r in rows)
    n = total["should_close"]
    total["close_rate"] = round(total["closed"] / n, 4) if n else None
    total["on_time_rate"] = round(total["closed_on_time"] / n, 4) if n else None
    weighted = [
        (r["avg_handling_hours"], r["closed"]) for r in rows if r["avg_handling_hours"] is not None
    ]
    closed = sum(c for _h, c in weighted)
    total["avg_handling_hours"] = (
        round(sum(h * c for h, c in weighted) / closed, 1) if closed else None
    )
    return total


def dimension_names(by: str) -> dict[str, str]:
    """Display names for indicator keys: department names or region names."""
    if by == "department":
        from wangge.core.models import Department

        return dict(Department.objects.values_list("code", "name"))
    from wangge.regions.selectors import region_names_unscoped

    return region_names_unscoped()
