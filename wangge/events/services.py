"""Writes other than the workflow and intake: photos, the reporter's personal data, categories,
the calendar, Open311 keys, notifications read. Each takes the actor and checks its own rule."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wangge.core.audit import audit_record
from wangge.core.errors import NotFound, ValidationFailed
from wangge.core.personal import reveal
from wangge.core.roles import Perm
from wangge.core.scope import as_scope, require_any
from wangge.core.selectors import department_by_code
from wangge.core.services import secret_digest
from wangge.events import photos as event_photos
from wangge.events import selectors
from wangge.events.models import (
    OPEN_STATUSES,
    CalendarDay,
    Category,
    Event,
    EventAction,
    EventPhoto,
    LimitUnit,
    Notification,
    Open311Client,
)
from wangge.regions.restructure import GridPlan, RegridResult, Unplaced, id_batches
from wangge.regions.services import restructure_scope


def photos_add(
    *,
    actor: Any,
    event: Event | int,
    files: Sequence[bytes],
    stage: str,
    now: dt.datetime | None = None,
) -> list[EventPhoto]:
    """Photos added to an event on their own (the phone page sends them after its report).
    NotFound for an event the actor cannot see; PermissionDenied unless the grant covering the
    event lets them add photos at `stage` (`photos.refusal`); ValidationFailed for a bad photo,
    before anything is stored. Audited (`event.photos_add`: the count and the stage)."""
    scope = as_scope(actor)
    now = now or timezone.now()
    event_id = event.pk if isinstance(event, Event) else int(event)
    with transaction.atomic():
        found = selectors.event_get(actor=scope, event_id=event_id)
        event_photos.require(scope, found, stage)
        checked = event_photos.validate(files)
        return event_photos.attach(scope=scope, event=found, photos=checked, stage=stage, now=now)


REVEALABLE = ("reporter_name", "reporter_phone")


def reporter_reveal(*, actor: Any, event_id: int, field: str, reason: str) -> str:
    """The reporter's full name or phone, for one response only: the caller shows it in its
    answer and never keeps it (not in the session, not in a log). NotFound for an event the
    actor cannot see; PermissionDenied unless a grant holding `personal.reveal` covers the
    event (its grid, and its department for a department grant); a reason is required. Every
    look is audited, a refused one too — which is why this is not one transaction: the
    refusal's audit entry must not roll back with the refusal."""
    event = selectors.event_get(actor=actor, event_id=event_id)
    if field not in REVEALABLE:
        raise ValidationFailed(code="unknown_field", details={"field": field, "known": REVEALABLE})
    reveal(
        actor=actor,
        object_type="event",
        object_id=event.pk,
        field=field,
        reason=reason,
        codes=[event.grid_code],
        department=event.department_code,
    )
    return str(getattr(event, field))


_CATEGORY_FIELDS = {
    "name",
    "department",
    "self_resolve",
    "public",
    "active",
    "accept_limit",
    "accept_unit",
    "handle_limit",
    "handle_unit",
    "verify_limit",
    "verify_unit",
}


@transaction.atomic
def category_update(*, actor: Any, code: str, **fields: Any) -> Category:
    """Change a minor or major category (district administrators: `events.configure`; to
    anyone else there is nothing to change, NotFound). `department` is a department's code, or
    None for none."""
    scope = require_any(actor, Perm.EVENTS_CONFIGURE)
    category = Category.objects.select_related("parent", "department").filter(code=code).first()
    if category is None:
        raise NotFound()
    unknown = set(fields) - _CATEGORY_FIELDS
    if unknown:
        raise ValidationFailed(details={"unknown": sorted(unknown)})
    if "department" in fields:
        code_given = fields.pop("department")
        if code_given is None:
            fields["department"] = None
        elif not code_given:  # an empty code is no department's: say so, do not clear
            raise ValidationFailed(code="unknown_department", details={"department": ""})
        else:
            fields["department"] = department_by_code(code_given)
    for unit in ("accept_unit", "handle_unit", "verify_unit"):
        if unit in fields and fields[unit] not in LimitUnit.values:
            raise ValidationFailed(_("Unknown time unit."), code="invalid_unit")
    for limit in ("accept_limit", "handle_limit", "verify_limit"):
        if limit not in fields:
            continue
        try:
            fields[limit] = int(fields[limit])
        except (TypeError, ValueError):
            raise ValidationFailed(
                _("A time limit must be a whole number."), code="invalid_limit"
            ) from None
        if not 1 <= fields[limit] <= 10_000:
            raise ValidationFailed(_("A time limit must be at least 1."), code="invalid_limit")
    changed = {k: v for k, v in fields.items() if getattr(category, k) != v}
    for k, v in changed.items():
        setattr(category, k, v)
    if changed:
        category.save(update_fields=list(changed))
    audit_record(
        actor=scope,
        action="event.category_update",
        object_type="category",
        object_id=category.code,
        details={"changed": {k: _audited(v) for k, v in changed.items()}},
    )
    return category


def _audited(value: Any) -> str:
    return value.code if hasattr(value, "code") else str(value)


@transaction.atomic
def calendar_set(
    *, actor: Any, date: dt.date, is_workday: bool | None, note: str = ""
) -> CalendarDay | None:
    """Override one date (None removes the override). Deadlines already set do not move."""
    scope = require_any(actor, Perm.EVENTS_CONFIGURE)
    CalendarDay.objects.filter(date=date).delete()
    day = None
    if is_workday is not None:
        day = CalendarDay.objects.create(
            date=date, is_workday=is_workday, note=note[:100], changed_by=scope.username
        )
    audit_record(
        actor=scope,
        action="event.calendar_set",
        object_type="calendar",
        object_id=date.isoformat(),
        details={"is_workday": is_workday, "note": note[:100]},
    )
    return day


def _system_only(actor: Any) -> None:
    """Open311 keys are managed from the server's command line, never from a page."""
    if not as_scope(actor).is_system:
        raise NotFound()


def open311_key_create(*, actor: Any, name: str) -> tuple[Open311Client, str]:
    _system_only(actor)
    name = name.strip()
    if not name or len(name) > 64:
        raise ValidationFailed(_("Give the client a name (at most 64 characters)."))
    if Open311Client.objects.filter(name=name).exists():
        raise ValidationFailed(_("A client with this name exists."), code="duplicate_name")
    plain = "o311_" + secrets.token_urlsafe(24)
    with transaction.atomic():
        client = Open311Client.objects.create(
            name=name, prefix=plain[:10], digest=secret_digest(plain)
        )
        audit_record(
            actor=actor, action="open311.key_create", object_type="open311_client", object_id=name
        )
    return client, plain


def open311_key_revoke(*, actor: Any, name: str) -> Open311Client:
    _system_only(actor)
    client = Open311Client.objects.filter(name=name, revoked_at__isnull=True).first()
    if client is None:
        raise NotFound()
    with transaction.atomic():
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor, action="open311.key_revoke", object_type="open311_client", object_id=name
        )
    return client


def open311_client_for(key: str) -> Open311Client | None:
    """The client an API key belongs to (None: no such active key). Only its digest is kept."""
    if not key:
        return None
    return Open311Client.objects.filter(digest=secret_digest(key), revoked_at__isnull=True).first()


def notifications_read(*, actor: Any, ids: list[int] | None = None) -> int:
    """Mark the actor's own notifications read (all, or those in `ids`)."""
    qs = Notification.objects.visible_to(require_any(actor, Perm.EVENTS_VIEW), Perm.EVENTS_VIEW)
    qs = qs.filter(read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


_EXPORT_COLUMNS = [
    ("key", gettext_lazy("Code")),
    ("name", gettext_lazy("Name")),
    ("should_close", gettext_lazy("Should close")),
    ("closed", gettext_lazy("Closed")),
    ("closed_on_time", gettext_lazy("Closed on time")),
    ("close_rate", gettext_lazy("Close rate")),
    ("on_time_rate", gettext_lazy("On-time rate")),
    ("overdue", gettext_lazy("Overdue")),
    ("returned", gettext_lazy("Returned")),
    ("reworked", gettext_lazy("Reworked")),
    ("extended", gettext_lazy("Extended")),
    ("parked", gettext_lazy("Parked")),
    ("avg_handling_hours", gettext_lazy("Avg. handling (h)")),
]


def indicators_export(
    *, actor: Any, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> bytes:
    """The indicators workbook a command centre sends upward: one sheet per dimension, of the
    events in the actor's scope. Audited (what left the system, and for which period)."""
    from wangge.core.tabular import write_xlsx

    headers = [str(label) for _name, label in _EXPORT_COLUMNS]
    sheets = []
    with transaction.atomic():
        for by, label in selectors.DIMENSION_LABELS.items():
            rows = selectors.indicators(actor=actor, by=by, since=since, until=until)
            total = selectors.indicators_total(rows) | {"name": _("Total")}
            cells = [[row.get(name) for name, _label in _EXPORT_COLUMNS] for row in [*rows, total]]
            sheets.append((str(label), headers, cells))
        audit_record(
            actor=actor,
            action="event.indicators_export",
            details={
                "since": str(since.date() if since else ""),
                "until": str(until.date() if until else ""),
            },
        )
    return write_xlsx(sheets)


def regrid(*, actor: Any, plan: GridPlan, apply: bool = False) -> RegridResult:
    """Count (dry run) or move (apply) the **open** events of a restructure's old grids: by
    their point where they have one, else a mapping (`event,<id>,<grid>`), the only target or
    the default grid. Closed, rejected and merged events keep their historic grid code. A moved
    event's `updated_at` and version change (the dashboard's facts follow at the next refresh)
    and its log gets a `regrid` line. Needs `regions.restructure` over every grid involved."""
    scope = restructure_scope(actor=actor, codes=plan.codes())
    result = RegridResult(module="events")
    moves: dict[str, list[int]] = {}
    for source in sorted(plan.sources):
        rows = list(
            Event.objects.dangerously_unscoped()
            .filter(grid_code=source, status__in=OPEN_STATUSES)
            .order_by("pk")
            .values_list("pk", "title", "lon", "lat", "created_at")
        )
        placed = plan.place_many(
            source, "event", [(pk, (lon, lat)) for pk, _t, lon, lat, _c in rows]
        )
        for (pk, title, _lon, _lat, created), target in zip(rows, placed, strict=True):
            if target is None:
                label = f"SJ{created:%Y%m%d}{pk:06d} {title}"
                result.unplaced.append(Unplaced("event", pk, label, source))
            elif target != source:
                moves.setdefault(target, []).append(pk)
                result.count("event", target)
    if apply:
        _regrid_apply(scope, plan, moves)
    return result


@transaction.atomic
def _regrid_apply(scope: Any, plan: GridPlan, moves: dict[str, list[int]]) -> None:
    now = timezone.now()
    events = Event.objects.dangerously_unscoped()
    for target, ids in sorted(moves.items()):
        for batch in id_batches(ids):
            rows = list(events.filter(pk__in=batch).values_list("pk", "grid_code", "status"))
            events.filter(pk__in=batch).update(
                grid_code=target, updated_at=now, version=F("version") + 1
            )
            EventAction.objects.bulk_create(
                [
                    EventAction(
                        event_id=pk,
                        at=now,
                        actor_id=scope.user_id,
                        actor_name=scope.username,
                        action="regrid",
                        from_status=status,
                        to_status=status,
                        details={"from": old, "to": target, "note": f"{old} → {target}"},
                    )
                    for pk, old, status in rows
                ]
            )
    audit_record(
        actor=scope,
        action="events.regrid",
        object_type="restructure",
        object_id=plan.batch,
        details={"operation": plan.operation, "moved": {t: sorted(i) for t, i in moves.items()}},
    )


EVENTS_EXPORT_MAX_ROWS = 20_000


def events_export(
    *, actor: Any, box: str = "all", now: dt.datetime | None = None, **filters: Any
) -> bytes:
    """The inbox as the table shows it, as an Excel workbook: the rows `event_list` gives for
    this box, these filters and this sort, in that order, with names rather than codes and
    times in local time. No reporter's name or phone leaves (the table shows none); audited
    (the box, the filters, how many rows). Over EVENTS_EXPORT_MAX_ROWS it is refused with a
    message to narrow the filters, rather than cut short."""
    from wangge.core.dates import time_left
    from wangge.core.tabular import write_xlsx
    from wangge.regions.selectors import region_names

    now = now or timezone.now()
    qs = selectors.event_list(actor=actor, box=box, **filters).select_related("category__parent")
    total = qs.count()
    if total > EVENTS_EXPORT_MAX_ROWS:
        raise ValidationFailed(
            _("%(n)d events are too many for one workbook (at most %(max)d): narrow the filters.")
            % {"n": total, "max": EVENTS_EXPORT_MAX_ROWS},
            code="too_many_rows",
        )
    events = list(qs)
    names = region_names(actor=actor, codes={e.grid_code for e in events})

    def local(moment: dt.datetime | None) -> str:
        return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""

    rows = []
    for e in events:
        deadline = e.due_at if e.is_open else e.handle_due_at
        left = time_left(e.due_at, now)[0] if e.is_open else ""
        on_time = (
            "" if e.on_time is None else _("closed on time") if e.on_time else _("closed late")
        )
        rows.append(
            [
                e.number,
                e.title,
                e.category.parent.name if e.category.parent else "",
                e.category.name,
                names.get(e.grid_code, ""),
                e.grid_code,
                e.get_status_display(),
                local(e.created_at),
                local(deadline),
                left,
                local(e.closed_at),
                on_time if e.closed_at else "",
                e.get_tier_display(),
                e.get_channel_display(),
            ]
        )
    headers = [
        _("Number"),
        _("Title"),
        _("Major category"),
        _("Category"),
        _("Grid"),
        _("Grid code"),
        _("Status"),
        _("Reported"),
        _("Deadline"),
        _("Time left"),
        _("Closed at"),
        _("On time"),
        _("Tier"),
        _("Channel"),
    ]
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="event.export",
            object_type="event",
            object_id="inbox",
            details={"box": box, "rows": total}
            | {k: str(v) for k, v in filters.items() if v not in (None, "", False)},
        )
    return write_xlsx([(str(selectors.BOX_LABELS.get(box, box)), [str(h) for h in headers], rows)])
