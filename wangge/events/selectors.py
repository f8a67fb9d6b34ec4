"""Reads of events: inboxes, one event with its log and photos, what an actor may do, the
public's reads (the residents' pages, Open311), indicators, configuration. Each takes the actor
and applies its scope; what is not in scope is not found."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Avg, Count, F, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, Substr
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from wangge.core.errors import NotFound, ValidationFailed
from wangge.core.personal import exact_query, exact_search_allowed
from wangge.core.roles import Perm
from wangge.core.scope import Scope, access, as_scope, require_any
from wangge.core.tables import sorted_by
from wangge.events import calendar, photos
from wangge.events.models import (
    FINAL_STATUSES,
    OPEN_STATUS_LIST,
    OPEN_STATUSES,
    Category,
    Channel,
    Event,
    EventAction,
    EventPhoto,
    LimitUnit,
    Notification,
    Open311Client,
    Status,
)
from wangge.events.rules import primary_action
from wangge.events.workflow import allowed_actions
from wangge.regions.selectors import region_filter_q

BOXES = ("all", "mine", "todo", "department", "overdue", "verify", "pending", "closed")


BOX_LABELS = {
    "todo": gettext_lazy("To do"),
    "mine": gettext_lazy("My grid"),
    "department": gettext_lazy("Department queue"),
    "overdue": gettext_lazy("Overdue"),
    "verify": gettext_lazy("Waiting for verification"),
    "pending": gettext_lazy("Waiting for acceptance"),
    "closed": gettext_lazy("Closed"),
    "all": gettext_lazy("All"),
}


def events_abilities(*, actor: Any) -> dict[str, bool]:
    """What the events pages may offer this actor (menus and forms; the services decide each
    step again). NotFound when events do not exist for them."""
    scope = require_any(actor, Perm.EVENTS_VIEW)
    return {
        "can_report": scope.has(Perm.EVENTS_REPORT),
        "can_assign": scope.has(Perm.EVENTS_COMMAND),
        "can_configure": scope.has(Perm.EVENTS_CONFIGURE),
        # The hotline's look-up of a caller's earlier reports (events_by_caller decides again).
        "can_look_up_callers": scope.has(Perm.PERSONAL_REVEAL),
    }


def boxes_for(*, actor: Any) -> list[str]:
    """The inboxes that mean something to this actor, in the order the page shows them."""
    scope = require_any(actor, Perm.EVENTS_VIEW)
    boxes = ["todo"]
    if _my_grids(scope):
        boxes.append("mine")
    if scope.has(Perm.EVENTS_HANDLE):
        boxes.append("department")
    boxes.append("overdue")
    if scope.has(Perm.EVENTS_VERIFY) or scope.has(Perm.EVENTS_COMMAND):
        boxes.append("verify")
    if scope.has(Perm.EVENTS_COMMAND):
        boxes.append("pending")
    return [*boxes, "closed", "all"]


def box_counts(*, actor: Any, boxes: list[str]) -> dict[str, int]:
    """How many events each inbox holds, in one query."""
    scope = require_any(actor, Perm.EVENTS_VIEW)
    if not boxes:
        return {}
    qs = Event.objects.visible_to(scope, Perm.EVENTS_VIEW).order_by()
    return qs.aggregate(**{box: Count("pk", filter=_box_q(scope, box)) for box in boxes})


def _my_grids(scope: Scope) -> list[str]:
    return [g.region_code for g in scope.grants_for(Perm.EVENTS_REPORT) if len(g.region_code) == 15]


def _box_q(scope: Scope, box: str) -> Q:
    """The filter of one inbox (see `event_list`)."""
    if box == "mine":
        return Q(grid_code__in=_my_grids(scope)) | Q(reporter_id=scope.user_id)
    if box == "todo":
        wanted = Q(pk__in=[])
        if scope.has(Perm.EVENTS_COMMAND):
            wanted |= Q(status__in=[Status.PENDING, Status.FILED, Status.RETURNED, Status.VERIFIED])
        if scope.has(Perm.EVENTS_HANDLE):
            wanted |= Q(status__in=[Status.DISPATCHED, Status.HANDLING])
        if scope.has(Perm.EVENTS_VERIFY):
            wanted |= Q(status=Status.VERIFYING)
        if scope.has(Perm.EVENTS_REPORT):
            wanted |= Q(status=Status.FILED, category__self_resolve=True)
        return wanted
    if box == "department":
        return Q(status__in=[Status.DISPATCHED, Status.HANDLING]) & ~Q(department_code="")
    if box == "overdue":
        return Q(status__literal_in=OPEN_STATUS_LIST, overdue=True)
    if box == "verify":
        return Q(status=Status.VERIFYING)
    if box == "pending":
        return Q(status=Status.PENDING)
    if box == "closed":
        return Q(status=Status.CLOSED)
    if box == "all":
        return Q()
    raise ValidationFailed(code="unknown_box", details={"box": box, "known": BOXES})


# The inbox's sort keys (?sort=due, ?sort=-due): a whitelist, so that no other field reaches
# order_by; the id breaks ties (core.tables.sorted_by). A closed event's deadline is the
# handling deadline it was held to (its running deadline is cleared at closing).
EVENT_SORTS: dict[str, tuple[str, ...]] = {
    "number": (),  # the number is the day reported and the id: the id's order
    "title": ("title",),
    "category": ("category__code",),
    "grid": ("grid_code",),
    "status": ("status",),
    "due": ("due_at",),
    "tier": ("tier",),
    "closed": ("closed_at",),
}
_CLOSED_SORTS = EVENT_SORTS | {"due": ("handle_due_at",)}


def event_sort_default(box: str) -> str:
    """What an inbox shows first: the nearest deadline while work waits, the newest once it
    is done (closed) or when everything is listed."""
    return "-closed" if box == "closed" else "-number" if box == "all" else "due"


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
    open_only: bool = False,
    sort: str | None = None,
) -> QuerySet[Event]:
    """Events in scope, narrowed to an inbox:

    - mine: events in my grid(s) (grid roles) or reported by me;
    - todo: what waits for me: the actions my roles can take (accept/dispatch/close for centres,
      handle for departments, verify for grid workers);
    - department: dispatched to my department; overdue; verify (waiting for verification);
      pending (waiting for acceptance); closed.

    `sort`: one of EVENT_SORTS ("-" first for descending; "" or unknown: the box's default,
    `event_sort_default`), then the id; None leaves the order to the caller.
    """
    scope = require_any(actor, Perm.EVENTS_VIEW)
    qs = Event.objects.visible_to(scope, Perm.EVENTS_VIEW).select_related("category")
    qs = qs.filter(_box_q(scope, box))
    if status:
        qs = qs.filter(status=status)
    if open_only:
        qs = qs.filter(status__literal_in=OPEN_STATUS_LIST)
    if grid:
        qs = qs.filter(region_filter_q(actor=scope, text=grid))
    if category:
        qs = qs.filter(Q(category__code=category) | Q(category__parent__code=category))
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(description__icontains=q))
    if since:
        qs = qs.filter(created_at__gte=since)
    if until:
        qs = qs.filter(created_at__lt=until)
    if sort is not None:  # a list's own order, whitelisted (EVENT_SORTS); "" is the box's
        keys = _CLOSED_SORTS if box == "closed" else EVENT_SORTS
        qs = sorted_by(qs, sort, keys, event_sort_default(box))
    return qs


def event_get(*, actor: Any, event_id: int) -> Event:
    return access(
        Event.objects.select_related(
            "category", "category__parent", "category__department", "merged_into"
        ),
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


def event_abilities(*, actor: Any, event: Event) -> dict[str, Any]:
    """What this actor may do with an event they fetched: the workflow actions open to them now
    (the rule `transition` enforces), and whether they may see the reporter's phone (the rule
    `services.reporter_reveal` enforces: a grant holding `personal.reveal` covering the event)."""
    scope = as_scope(actor)
    actions = allowed_actions(scope, event)
    return {
        "actions": actions,
        # The one the page puts first: the step that moves the event on (rules.NEXT_STEP).
        "primary": primary_action(event, actions),
        "can_reveal": bool(event.reporter_phone)
        and scope.holds(Perm.PERSONAL_REVEAL, event.grid_code, event.department_code),
    }


STEPS = (
    ("report", pgettext_lazy("step", "Reported")),
    ("accept", pgettext_lazy("step", "Filed")),
    ("dispatch", pgettext_lazy("step", "Dispatched")),
    ("handle", pgettext_lazy("step", "Handled")),
    ("verify", pgettext_lazy("step", "Verified")),
    ("close", pgettext_lazy("step", "Closed")),
)
# Where an event stands in STEPS, by status: the index of the step it waits for.
_STEP_OF = {
    Status.PENDING: 1,
    Status.REJECTED: 1,
    Status.FILED: 2,
    Status.RETURNED: 2,
    Status.DISPATCHED: 3,
    Status.HANDLING: 3,
    Status.VERIFYING: 4,
    Status.VERIFIED: 5,
    Status.CLOSED: 6,
    Status.MERGED: 6,
}


def event_steps(*, event: Event, timeline: list[EventAction]) -> list[dict[str, Any]]:
    """The event page's step bar: 上报 → 立案 → 派遣 → 处置 → 核查 → 结案, each with its state
    (`done`, `current`, `todo`, `skipped` — resolved in the grid, never dispatched — or
    `stopped`: not accepted, merged), the time it was done and a note of what went back or up
    (returns, failed verifications, escalation, parking). For an event the actor fetched in
    scope with its timeline (`event_timeline`): nothing more is read."""
    status = event.status
    at = _step_times(event, timeline)
    if status == Status.PARKED:
        current = _STEP_OF.get(Status(event.parked_from or Status.FILED), 2)
    elif status == Status.MERGED:  # merged while pending or filed: as far as it got
        current = 2 if event.filed_at else 1
    else:
        current = _STEP_OF[Status(status)]
    escalations = sum(1 for a in timeline if a.action == "escalate")
    steps = []
    for i, (key, label) in enumerate(STEPS):
        state = "done" if i < current else "current" if i == current else "todo"
        if state == "current" and status in FINAL_STATUSES:
            state = "todo"  # not accepted, merged: nothing waits any more
        notes: list[str] = []
        if key == "dispatch" and event.self_resolved and not event.handler_department:
            state = "skipped" if i < current else state
            notes.append(_("resolved in the grid"))
        if key == "dispatch" and event.return_count:
            notes.append(
                ngettext("returned %(n)d time", "returned %(n)d times", event.return_count)
                % {"n": event.return_count}
            )
        if key == "handle" and event.rework_count:
            notes.append(
                ngettext(
                    "sent back by verification %(n)d time",
                    "sent back by verification %(n)d times",
                    event.rework_count,
                )
                % {"n": event.rework_count}
            )
        if i == current and status == Status.PARKED:
            notes.append(_("parked"))
        if i == current and status in OPEN_STATUSES and escalations:
            notes.append(_("overdue, raised to the %(tier)s") % {"tier": event.get_tier_display()})
        if key == "accept" and status == Status.REJECTED:
            state, notes = "stopped", [_("not accepted")]
        if key == "close" and status == Status.MERGED:
            state, notes = "stopped", [_("merged into another event")]
        steps.append(
            {
                "key": key,
                "label": label,
                "state": state,
                "at": at.get(key) if state in {"done", "stopped"} else None,
                "notes": notes,
            }
        )
    return steps


def _step_times(event: Event, timeline: list[EventAction]) -> dict[str, Any]:
    last: dict[str, Any] = {}
    for a in timeline:  # in order: the last time each step was done
        if a.action == "verify" and a.to_status == Status.VERIFIED:
            last["verify"] = a.at
        elif a.action in {"dispatch", "assign"}:
            last["dispatch"] = a.at
        elif a.action in {"report", "self_resolve"}:
            last["handle"] = a.at
        elif a.action in {"reject", "accept"}:
            last["accept"] = a.at
        elif a.action == "merge":
            last["close"] = a.at
    return {
        "report": event.created_at,
        "accept": last.get("accept") or event.filed_at,
        "dispatch": last.get("dispatch") or event.dispatched_at,
        "handle": last.get("handle") or event.reported_at,
        "verify": last.get("verify"),
        "close": event.closed_at or last.get("close"),
    }


def event_photo_file(*, actor: Any, event_id: int, photo_id: int) -> tuple[EventPhoto, bytes]:
    """One photo of an event the actor sees, and its bytes (decrypted)."""
    event = event_get(actor=actor, event_id=event_id)
    photo = access(EventPhoto.objects.filter(event=event), actor, Perm.EVENTS_VIEW, pk=photo_id)
    return photo, photos.read(photo)


def categories(*, actor: Any, minor_only: bool = False) -> list[Category]:
    """Active categories, major ones before their minor ones. The public (a resident, an
    Open311 client) sees the public ones; staff with events see all; anyone else none."""
    scope = as_scope(actor)
    qs = Category.objects.filter(active=True).select_related("parent", "department")
    if scope.is_public:
        qs = qs.filter(public=True)
    else:
        require_any(scope, Perm.EVENTS_VIEW)
    if minor_only:
        qs = qs.filter(parent__isnull=False)
    # Each major category, then its minor ones: a major one sorts as its own group (its parent's
    # sort and code are null, which would put every major first and the minors ungrouped after).
    return list(
        qs.order_by(
            Coalesce("parent__sort", "sort"),
            Coalesce("parent__code", "code"),
            F("parent").asc(nulls_first=True),
            "sort",
            "code",
        )
    )


def category_majors(*, actor: Any) -> list[Category]:
    """The major categories (the inbox's filter)."""
    require_any(actor, Perm.EVENTS_VIEW)
    return list(Category.objects.filter(parent__isnull=True, active=True))


def report_grids(*, actor: Any) -> list[str]:
    """The regions where the actor may report (the phone page); NotFound for anyone who may
    report nowhere."""
    scope = require_any(actor, Perm.EVENTS_REPORT)
    return [g.region_code for g in scope.grants_for(Perm.EVENTS_REPORT)]


HOTLINE_CHANNELS = (Channel.HOTLINE, Channel.PETITION, Channel.ASSIGNED)


def hotline_channels(*, actor: Any) -> list[str]:
    """The channels the hotline page offers this actor: calls and petitions to whoever may
    report, assignments from above to command centres. (Intake decides each report again,
    against the grid it lands in.)"""
    scope = require_any(actor, Perm.EVENTS_REPORT)
    return [c for c in HOTLINE_CHANNELS if c != Channel.ASSIGNED or scope.has(Perm.EVENTS_COMMAND)]


def calendar_month(*, actor: Any, year: int, month: int) -> list[dict[str, Any]]:
    require_any(actor, Perm.EVENTS_VIEW)
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        raise ValidationFailed(code="invalid_month")
    return calendar.month(year, month)


def calendar_deadline(*, actor: Any, start: dt.datetime, amount: int, unit: str) -> dt.datetime:
    """The deadline a limit gives from `start` on the working calendar."""
    require_any(actor, Perm.EVENTS_VIEW)
    if not 1 <= amount <= 1000:
        raise ValidationFailed(code="invalid_amount")
    return calendar.Calendar().add(start, amount, LimitUnit(unit))


# --- the public's reads (Open311) -------------------------------------------------------------


def public_events(
    *,
    actor: Any,
    ids: list[int] | None = None,
    codes: list[str] | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    statuses: set[str] | None = None,
    limit: int = 1000,
) -> list[Event]:
    """Events the public may read (`events.public_read`): reports that came from the public
    (residents, the hotline, Open311 clients) in public categories, newest first. The
    administration's own work (patrol findings, assignments, petitions) is not published.
    By ids (which override the other filters), else by category codes, creation time and
    status (`open`, `closed`)."""
    qs = (
        Event.objects.visible_to(actor, Perm.EVENTS_PUBLIC_READ)
        .select_related("category", "category__department")
        .order_by("-created_at", "-id")
    )
    if ids is not None:
        return list(qs.filter(pk__in=ids)[:limit])
    if codes:
        qs = qs.filter(category__code__in=codes)
    if start is not None:
        qs = qs.filter(created_at__gte=start)
    if end is not None:
        qs = qs.filter(created_at__lte=end)
    if statuses == {"open"}:
        qs = qs.filter(status__literal_in=OPEN_STATUS_LIST)
    elif statuses == {"closed"}:
        qs = qs.filter(status__in=list(FINAL_STATUSES))
    return list(qs[:limit])


def public_event_get(*, actor: Any, event_id: int) -> Event:
    return access(
        Event.objects.select_related("category", "category__department"),
        actor,
        Perm.EVENTS_PUBLIC_READ,
        pk=event_id,
    )


def open311_clients(*, actor: Any) -> list[Open311Client]:
    """Open311 clients (name, key prefix, dates): for the server's command line only."""
    if not as_scope(actor).is_system:
        raise NotFound()
    return list(Open311Client.objects.order_by("name"))


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

DIMENSION_LABELS = {
    "department": gettext_lazy("Department"),
    "street": gettext_lazy("Street"),
    "community": gettext_lazy("Community"),
    "grid": gettext_lazy("Grid"),
}
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
    names = _dimension_names(by)
    return [_rates(row) | {"name": names.get(row["key"] or "", row["key"] or "")} for row in rows]


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


def _dimension_names(by: str) -> dict[str, str]:
    """Display names for indicator keys: department names or region names. (Only the keys of
    rows already in the actor's scope are looked up.)"""
    if by == "department":
        from wangge.core.selectors import department_names

        return department_names()
    from wangge.regions.selectors import region_names_unscoped

    return region_names_unscoped()


# --- the command centre's reads (wangge.dashboard keeps facts of these) ----------------------

# The dimensions the dashboard's cubes may add to (local day, grid, department queue).
FACT_DIMENSIONS = ("handler_department", "channel", "category_id")


def _fact_cohort_measures() -> dict[str, Any]:
    """How the events created on a day are counted: exactly as `indicators` counts them."""
    should = Q(status__in=SHOULD_CLOSE)
    closed_q = should & Q(status=Status.CLOSED)
    return {
        "reported": Count("id"),
        "should_close": Count("id", filter=should),
        "closed": Count("id", filter=closed_q),
        "closed_on_time": Count("id", filter=closed_q & Q(on_time=True)),
        "overdue": Count("id", filter=should & Q(overdue=True)),
        "returned": Count("id", filter=should & Q(return_count__gt=0)),
        "reworked": Count("id", filter=should & Q(rework_count__gt=0)),
        "extended": Count("id", filter=should & Q(extend_count__gt=0)),
        "parked": Count("id", filter=should & Q(park_count__gt=0)),
        "handling_seconds": Sum("handling_seconds", filter=should),
        "handled": Count("handling_seconds", filter=should),
    }


def fact_queries_unscoped(
    start: dt.datetime, end: dt.datetime, dims: tuple[str, ...], measures: tuple[str, ...]
) -> dict[str, QuerySet[Event]]:
    """The events of [start, end) aggregated per local day, grid, department queue and `dims`
    (from FACT_DIMENSIONS), for the dashboard's daily facts: querysets of rows with `day`,
    `grid_code`, `department_code`, the dims and each measure as `m_<name>` (the system's read:
    the dashboard scopes the rows it keeps). `cohort`: the events created in the window, per
    day created, counted exactly as `indicators` counts them; `flow` (when `measures` asks for
    closed_on_day / closed_on_time_on_day): the events closed in the window, per day closed."""
    from django.db.models.functions import TruncDate
    from django.utils import timezone

    unknown = set(dims) - set(FACT_DIMENSIONS)
    if unknown:
        raise ValueError(f"not a fact dimension: {sorted(unknown)}")
    tz = timezone.get_current_timezone()
    group = ("day", "grid_code", "department_code", *dims)
    events = Event.objects.dangerously_unscoped().order_by()
    cohort = _fact_cohort_measures()
    out: dict[str, QuerySet[Event]] = {
        "cohort": events.filter(created_at__gte=start, created_at__lt=end)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values(*group)
        .annotate(**{f"m_{k}": v for k, v in cohort.items() if k in measures})
    }
    flow = {
        "closed_on_day": Count("id"),
        "closed_on_time_on_day": Count("id", filter=Q(on_time=True)),
    }
    if any(m in flow for m in measures):
        out["flow"] = (
            events.filter(status=Status.CLOSED, closed_at__gte=start, closed_at__lt=end)
            .annotate(day=TruncDate("closed_at", tzinfo=tz))
            .values(*group)
            .annotate(**{f"m_{k}": v for k, v in flow.items() if k in measures})
        )
    return out


def cohort_by(
    *,
    actor: Any,
    dim: str,
    since: dt.datetime,
    until: dt.datetime,
    grid: str = "",
    measures: tuple[str, ...] = ("reported",),
) -> list[dict[str, Any]]:
    """The events created in [since, until) in the actor's scope (under `grid`, a region
    code, when given) per `dim` (a FACT_DIMENSIONS name), counted with the facts' own cohort
    measures: what a cube would hold at a level finer than it keeps."""
    if dim not in FACT_DIMENSIONS:
        raise ValueError(f"not a fact dimension: {dim}")
    scope = require_any(actor, Perm.EVENTS_VIEW)
    qs = (
        Event.objects.visible_to(scope, Perm.EVENTS_VIEW)
        .order_by()
        .filter(created_at__gte=since, created_at__lt=until)
    )
    if grid:
        qs = qs.filter(grid_code__startswith=grid)
    cohort = _fact_cohort_measures()
    rows = qs.values(dim).annotate(**{f"m_{m}": cohort[m] for m in measures})
    return [{k.removeprefix("m_"): v for k, v in row.items()} for row in rows]


def event_span_unscoped() -> tuple[Any, Any]:
    """The first moment an event was created and the last one created or closed (None, None
    without events)."""
    qs = Event.objects.dangerously_unscoped().order_by()
    span = qs.aggregate(first=Min("created_at"), created=Max("created_at"), closed=Max("closed_at"))
    last = max((d for d in (span["created"], span["closed"]) if d is not None), default=None)
    return span["first"], last


def touched_unscoped(since: dt.datetime | None) -> tuple[list[tuple[Any, Any]], Any]:
    """(created_at, closed_at) of every event updated at or after `since` (all events when
    None), and the newest `updated_at` among them: the days whose facts changed."""
    qs = Event.objects.dangerously_unscoped().order_by()
    if since is not None:
        qs = qs.filter(updated_at__gte=since)
    newest = qs.aggregate(newest=Max("updated_at"))["newest"]
    return list(qs.values_list("created_at", "closed_at")), newest


# What the live numbers count: a column of the partial index of open events (never null), so
# that PostgreSQL answers from the index alone (the primary key is not in it).
OPEN_COUNTED = "grid_code"


def _open_events(actor: Any, grid: str) -> QuerySet[Event]:
    scope = require_any(actor, Perm.EVENTS_VIEW)
    qs = (
        Event.objects.visible_to(scope, Perm.EVENTS_VIEW)
        .order_by()
        .filter(status__literal_in=OPEN_STATUS_LIST)
    )
    return qs.filter(grid_code__startswith=grid) if grid else qs


def open_counts(*, actor: Any, width: int, grid: str = "") -> dict[str, dict[str, int]]:
    """Open and overdue events now, per region code cut to `width` characters (15 = grid),
    in the actor's scope (under `grid`, a region code, when given): the dashboard's live
    numbers."""
    rows = (
        _open_events(actor, grid)
        .annotate(key=Substr("grid_code", 1, width))
        .values("key")
        .annotate(open=Count(OPEN_COUNTED), overdue=Count(OPEN_COUNTED, filter=Q(overdue=True)))
    )
    return {r["key"]: {"open": r["open"], "overdue": r["overdue"]} for r in rows}


def open_totals(*, actor: Any, grid: str = "") -> dict[str, int]:
    """Open and overdue events now in the actor's scope (under `grid` when given), in one
    aggregate."""
    return _open_events(actor, grid).aggregate(
        open=Count(OPEN_COUNTED), overdue=Count(OPEN_COUNTED, filter=Q(overdue=True))
    )


AGEING_DAYS = (1, 3, 7, 30)


def open_ageing(
    *, actor: Any, grid: str = "", now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Open events by age in working days: under 1, 1–3, 3–7, 7–30, 30 and more (the age of
    an event is the number of working days after the day it was reported, up to today)."""
    from django.utils import timezone

    scope = require_any(actor, Perm.EVENTS_VIEW)
    now = now or timezone.now()
    cal = calendar.Calendar()
    today = timezone.localtime(now).date()
    tz = timezone.get_current_timezone()
    edges: list[dt.datetime] = []  # created before edges[i] → at least AGEING_DAYS[i] old
    day, counted = today, 0
    for wanted in AGEING_DAYS:
        while counted < wanted:
            if cal.is_workday(day):
                counted += 1
            day -= dt.timedelta(days=1)
        edges.append(
            timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()), tz)
        )
    counts = _open_events(scope, grid).aggregate(
        total=Count(OPEN_COUNTED),
        **{
            f"d{n}": Count(OPEN_COUNTED, filter=Q(created_at__lt=e))
            for n, e in zip(AGEING_DAYS, edges, strict=True)
        },
    )
    bounds = [0, *AGEING_DAYS]
    at_least = [counts["total"], *(counts[f"d{n}"] for n in AGEING_DAYS)]
    buckets = []
    for i, low in enumerate(bounds):
        high = bounds[i + 1] if i + 1 < len(bounds) else None
        n = at_least[i] - (at_least[i + 1] if i + 1 < len(at_least) else 0)
        buckets.append(
            {
                "min_days": low,
                "max_days": high,
                "count": n,
                "created_before": edges[i - 1].isoformat() if i else None,
                "created_since": edges[i].isoformat() if high is not None else None,
            }
        )
    return buckets


def audit_names_unscoped(ids: list[str]) -> dict[str, str]:
    """Event numbers by id, for the audit log (its reader holds audit.view over everything)."""
    from wangge.core.audit_words import numeric_ids

    rows = Event.objects.dangerously_unscoped().filter(pk__in=numeric_ids(ids)).only("created_at")
    return {str(e.pk): e.number for e in rows}


def events_by_caller(*, actor: Any, phone: str, limit: int = 10) -> list[Event]:
    """A caller's earlier reports, newest first: the hotline catches a repeat call. Found by
    the phone's blind index, among the events a grant of the actor's holding `personal.reveal`
    covers (a phone number is personal data), and refused, rate-limited and audited as every
    search by a full phone is (`exact_search_allowed`). ValidationFailed for no full number."""
    from wangge.events.intake import caller_index

    exact = exact_query(phone or "")
    if exact is None or exact[0] != "phone":
        raise ValidationFailed(
            _("Type the caller's full phone number to find their earlier reports."),
            code="phone_required",
        )
    exact_search_allowed(actor=actor, by="phone", object_type="event")
    return list(
        Event.objects.visible_to(as_scope(actor), Perm.PERSONAL_REVEAL)
        .filter(reporter_phone_index=caller_index(exact[1]))
        .select_related("category")
        .order_by("-created_at", "-id")[:limit]
    )


def grid_figures_for(actor: Any, code: str) -> list[tuple[str, int, str]]:
    """The grid page's figures from the events: open and overdue events in the grid."""
    from django.urls import reverse
    from django.utils.translation import gettext as _

    scope = as_scope(actor)
    if not scope.holds(Perm.EVENTS_VIEW, code):
        return []
    open_events = Event.objects.visible_to(scope, Perm.EVENTS_VIEW).filter(
        grid_code=code, status__in=OPEN_STATUS_LIST
    )
    inbox = reverse("events:inbox")
    return [
        (_("Open events"), open_events.count(), f"{inbox}?box=all&grid={code}"),
        (
            _("Overdue now"),
            open_events.filter(overdue=True).count(),
            f"{inbox}?box=overdue&grid={code}",
        ),
    ]
