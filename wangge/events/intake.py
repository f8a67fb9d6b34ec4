"""Intake: a report from any channel becomes an event placed in its grid.

Grid workers' reports (patrol) and assignments from above are filed directly; residents',
hotline and Open311 reports wait to be accepted (they are verified first, `domain.md` §3).
An idempotency key makes a retried report return the event its first attempt created.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core.audit import audit_record
from wangge.core.crypto import blind_index
from wangge.core.errors import NotFound, ValidationFailed
from wangge.core.geo import Crs
from wangge.core.personal import normalise_phone
from wangge.core.roles import Perm
from wangge.core.scope import Scope, as_scope
from wangge.events import notify
from wangge.events import photos as event_photos
from wangge.events.calendar import Calendar, Clock
from wangge.events.models import (
    OPEN_STATUS_LIST,
    Category,
    Channel,
    Event,
    EventAction,
    Open311Client,
    Status,
    Tier,
)
from wangge.regions.locate import grid_index

# Filed at once (the rest wait to be accepted); given a tracking code for the caller.
DIRECT_CHANNELS = frozenset({Channel.PATROL, Channel.ASSIGNED, Channel.VIDEO})
TRACKED_CHANNELS = frozenset({Channel.RESIDENT, Channel.OPEN311, Channel.HOTLINE})
_TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


CALLER_CONTEXT = "events.reporter_phone"


def caller_index(phone: str) -> str:
    """The blind index of a reporter's phone ("" for none, or for text that is no phone)."""
    number = normalise_phone(phone[:20]) if phone else ""
    return blind_index(number, context=CALLER_CONTEXT) if len(number) >= 7 else ""


@dataclass
class Report:
    category: str  # minor category code
    title: str
    description: str = ""
    lon: float | None = None
    lat: float | None = None
    crs: str = Crs.WGS84
    address: str = ""
    grid_code: str = ""  # when there is no point (a hotline call with an address)
    reporter_name: str = ""
    reporter_phone: str = ""
    channel: str = Channel.PATROL
    tier: int | None = None
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class Intake:
    event: Event
    created: bool
    duplicates: list[Event]


def category_for_report(code: str, *, public_only: bool = False) -> Category:
    cat = Category.objects.filter(code=code, active=True, parent__isnull=False).first()
    if cat is None or (public_only and not cat.public):
        raise ValidationFailed(
            _("Unknown event category: %(code)s") % {"code": code},
            code="unknown_category",
            details={"field": "category"},
        )
    return cat


def place(report: Report) -> tuple[str, float | None, float | None]:
    """The grid of a report: from its point (converted to WGS-84), else the grid code given."""
    if report.lon is not None and report.lat is not None:
        lon, lat = float(report.lon), float(report.lat)
        if not (math.isfinite(lon) and math.isfinite(lat)) or not (
            -180 <= lon <= 180 and -90 <= lat <= 90
        ):
            raise ValidationFailed(
                _("The location is not a valid longitude/latitude."),
                code="invalid_location",
                details={"field": "lon"},
            )
        index = grid_index()
        try:
            crs = Crs(report.crs or Crs.WGS84)
        except ValueError:
            raise ValidationFailed(_("Unknown coordinate system."), code="invalid_crs") from None
        x, y = _to_wgs84(lon, lat, crs)
        code = index.codes_for(index.locate([x], [y]))[0]
        if code is None:
            raise ValidationFailed(
                _("The location is outside every grid of this district."),
                code="outside_grids",
                details={"field": "lon"},
            )
        return code, x, y
    if report.grid_code:
        from wangge.regions.models import Region

        if not (
            Region.objects.dangerously_unscoped()
            .filter(code=report.grid_code, level="grid")
            .exists()
        ):
            raise ValidationFailed(
                _("Unknown grid: %(code)s") % {"code": report.grid_code}, code="unknown_grid"
            )
        return report.grid_code, None, None
    raise ValidationFailed(
        _("Give the location (a point on the map) or the grid."),
        code="location_required",
        details={"field": "lon"},
    )


def _to_wgs84(lon: float, lat: float, crs: Crs) -> tuple[float, float]:
    from wangge.core.geo import to_wgs84

    x, y = to_wgs84([lon], [lat], crs)
    return float(x[0]), float(y[0])


def event_report(
    actor: Any,
    report: Report,
    *,
    idempotency_key: str = "",
    key_owner: str = "",
    open311_client: Open311Client | None = None,
    photos: Sequence[bytes] = (),
    now: dt.datetime | None = None,
) -> Intake:
    """Create an event from a report, with its photos, or return the one this idempotency key
    already made (its photos are not added twice).

    `actor` is the logged-in user (patrol, hotline, assignment), a public scope for the public
    page and Open311 (`key_owner` then names the client or the browser), or the system. Who may
    report through which channel, where, is checked here (`_check_channel`, `_check_place`),
    and so is every photo, before anything is written: the event, its log line, its audit
    entries, its notifications and its photos are one transaction, all or nothing."""
    scope = as_scope(actor)
    now = now or timezone.now()
    intake_key = None
    if idempotency_key:
        key = idempotency_key.strip()[:120]
        owner = key_owner or (f"user:{scope.user_id}" if scope.user_id else scope.username)
        intake_key = f"{owner}:{key}"
        existing = _by_key(intake_key)
        if existing is not None:
            return Intake(existing, False, [])
    channel = Channel(report.channel)
    _check_channel(scope, channel)
    if channel == Channel.RESIDENT:
        _check_rate()
    checked = event_photos.validate(photos) if photos else []
    cat = category_for_report(report.category, public_only=channel in _PUBLIC_INTAKE)
    title = (report.title or "").strip() or cat.name
    if len(title) > 100:
        raise ValidationFailed(
            _("The title is too long (at most 100 characters)."), code="too_long"
        )
    if len(report.description or "") > 4000:
        raise ValidationFailed(
            _("The description is too long (at most 4,000 characters)."), code="too_long"
        )
    grid_code, lon, lat = place(report)
    _check_place(scope, channel, grid_code)
    direct = channel in DIRECT_CHANNELS
    tier = report.tier if report.tier is not None else _tier_of(scope, channel)
    event = Event(
        category=cat,
        title=title,
        description=report.description or "",
        channel=channel,
        tier=tier,
        grid_code=grid_code,
        lon=lon,
        lat=lat,
        address=(report.address or "")[:200],
        reporter_id=scope.user_id,
        reporter_name=(report.reporter_name or "")[:50],
        reporter_phone=(report.reporter_phone or "")[:20],
        reporter_phone_index=caller_index(report.reporter_phone or ""),
        intake_key=intake_key,
        open311_client=open311_client,
        created_at=now,
        updated_at=now,
        **opening(cat, channel, now=now, clock=Calendar()),
    )
    if channel in TRACKED_CHANNELS:
        event.tracking_code = "".join(secrets.choice(_TRACKING_ALPHABET) for _ in range(10))
    # Shown to the reporter: only what they may see (the public and Open311 are shown none).
    duplicates = (
        duplicate_candidates_unscoped(cat.pk, lon, lat, now=now)
        if scope.is_system
        else duplicate_candidates(actor=scope, category_id=cat.pk, lon=lon, lat=lat, now=now)
    )
    try:
        with transaction.atomic():
            event.save(force_insert=True)
            EventAction.objects.create(
                event=event,
                at=now,
                actor_id=scope.user_id,
                actor_name=scope.username,
                action="intake",
                to_status=event.status,
                details={"channel": channel, "duplicates": [d.pk for d in duplicates]},
            )
            audit_record(
                actor=scope,
                action="event.create",
                object_type="event",
                object_id=event.pk,
                details={"channel": channel, "grid": grid_code, "category": cat.code},
            )
            who = Tier.COMMUNITY if not direct or tier >= Tier.COMMUNITY else Tier.GRID
            if not direct or tier > Tier.GRID:
                notify.notify(
                    notify.tier_recipients(event, max(who, tier)),
                    event=event,
                    kind="new",
                    message=_("New event to accept: %(title)s") % {"title": title},
                    now=now,
                )
            if checked:
                event_photos.attach(
                    scope=scope,
                    event=event,
                    photos=checked,
                    stage="report",
                    now=now,
                    as_reporter=True,
                )
    except IntegrityError:
        if intake_key:
            existing = _by_key(intake_key)
            if existing is not None:  # the same report raced itself; the first one won
                return Intake(existing, False, [])
        raise
    return Intake(event, True, duplicates)


_PUBLIC_INTAKE = {Channel.RESIDENT, Channel.OPEN311}


def opening(category: Category, channel: str, *, now: dt.datetime, clock: Clock) -> dict[str, Any]:
    """A new event's status and deadline (the demo's history opens its events with it too):
    patrols, assignments and video findings are filed at once, with the handling deadline if
    the grid may resolve them; the rest wait for acceptance."""
    if channel not in DIRECT_CHANNELS:
        due = clock.add(now, category.accept_limit, category.accept_unit)
        return {"status": Status.PENDING, "filed_at": None, "due_at": due}
    if category.self_resolve:
        due = clock.add(now, category.handle_limit, category.handle_unit)
        return {"status": Status.FILED, "filed_at": now, "handle_due_at": due, "due_at": due}
    due = clock.add(now, category.accept_limit, category.accept_unit)
    return {"status": Status.FILED, "filed_at": now, "due_at": due}


def _check_channel(scope: Scope, channel: Channel) -> None:
    """Who may report through which channel. The public files only public reports; staff
    report with `events.report`, never as the public."""
    if scope.is_system:
        return
    if scope.is_public:
        if channel not in _PUBLIC_INTAKE or not scope.has(Perm.EVENTS_PUBLIC_REPORT):
            raise NotFound()
        return
    if not scope.has(Perm.EVENTS_REPORT):
        raise NotFound()
    if channel in _PUBLIC_INTAKE:
        raise ValidationFailed(
            _("Staff report through the patrol, hotline or petition channels."),
            code="not_allowed",
            details={"channel": str(channel)},
        )
    if channel == Channel.ASSIGNED and not scope.has(Perm.EVENTS_COMMAND):
        raise ValidationFailed(
            _("Only a command centre may assign an event from above."),
            code="not_allowed",
            details={"channel": str(channel)},
        )


def _check_rate() -> None:
    """An address may send WANGGE_PUBLIC_REPORTS_PER_HOUR residents' reports an hour: a page
    on the internet gets scripted. Counted in the audit log, which records the address."""
    from wangge.core.context import current
    from wangge.core.models import AuditEntry

    recent = AuditEntry.objects.filter(
        action="event.create",
        at__gte=timezone.now() - dt.timedelta(hours=1),  # the audit's clock, not `now`
        client_ip=current.get().client_ip,
        details__channel=Channel.RESIDENT,
    ).count()
    if recent >= settings.EVENTS_PUBLIC_REPORTS_PER_HOUR:
        raise ValidationFailed(
            _("Too many reports from your network in the last hour. Please try later."),
            code="too_many_reports",
        )


def _check_place(scope: Scope, channel: Channel, grid_code: str) -> None:
    """The grant that covers the event's grid decides (not some grant held elsewhere)."""
    if scope.is_system or scope.is_public:
        return
    if not scope.holds(Perm.EVENTS_REPORT, grid_code):
        raise ValidationFailed(
            _("The location is outside your area."), code="outside_scope", details={"field": "lon"}
        )
    if channel == Channel.ASSIGNED and not scope.holds(Perm.EVENTS_COMMAND, grid_code):
        raise ValidationFailed(
            _("Only a command centre may assign an event from above."),
            code="not_allowed",
            details={"channel": str(channel)},
        )


_TIER_BY_LENGTH = {6: Tier.DISTRICT, 9: Tier.STREET, 12: Tier.COMMUNITY}


def _tier_of(scope: Scope, channel: str) -> int:
    """An assignment from above starts at the assigner's tier (district, street, community)."""
    if channel != Channel.ASSIGNED:
        return Tier.GRID
    lengths = [len(g.region_code) for g in scope.grants_for(Perm.EVENTS_COMMAND)]
    return _TIER_BY_LENGTH.get(min(lengths), Tier.GRID) if lengths else Tier.GRID


def _by_key(intake_key: str) -> Event | None:
    rows = Event.objects.dangerously_unscoped().filter(intake_key=intake_key).order_by()
    pk = rows.values_list("pk", flat=True).first()  # the usual answer: none, by the index
    return None if pk is None else rows.select_related("category").get(pk=pk)


def duplicate_candidates(
    *,
    actor: Any,
    category_id: int,
    lon: float | None,
    lat: float | None,
    now: dt.datetime,
    exclude: int | None = None,
) -> list[Event]:
    """Events the actor may see of the same category within WANGGE_EVENTS_DUPLICATE_METRES of
    the point in the last WANGGE_EVENTS_DUPLICATE_DAYS days, open (or pending), nearest first.
    The public sees none."""
    scope = as_scope(actor)
    if scope.is_public:
        return []
    return _duplicates(scope, category_id, lon, lat, now=now, exclude=exclude)


def duplicate_candidates_unscoped(
    category_id: int, lon: float | None, lat: float | None, *, now: dt.datetime
) -> list[Event]:
    """The same, for the system (the demo builder, the worker)."""
    return _duplicates(None, category_id, lon, lat, now=now, exclude=None)


def _duplicates(
    scope: Scope | None,
    category_id: int,
    lon: float | None,
    lat: float | None,
    *,
    now: dt.datetime,
    exclude: int | None,
) -> list[Event]:
    if lon is None or lat is None:
        return []
    metres = float(settings.EVENTS_DUPLICATE_METRES)
    dlat = metres / 111_320.0
    dlon = metres / (111_320.0 * max(math.cos(math.radians(lat)), 0.01))
    # The (category, lat) index narrows to a band ±metres wide; the rest is checked on it.
    qs = Event.objects.filter(
        category_id=category_id,
        lat__range=(lat - dlat, lat + dlat),
        lon__range=(lon - dlon, lon + dlon),
        status__literal_in=OPEN_STATUS_LIST,
        created_at__gte=now - dt.timedelta(days=settings.EVENTS_DUPLICATE_DAYS),
    )
    qs = qs.visible_to(scope, Perm.EVENTS_VIEW) if scope is not None else qs.dangerously_unscoped()
    if exclude:
        qs = qs.exclude(pk=exclude)
    found = []
    for pk, ev_lon, ev_lat in qs.values_list("pk", "lon", "lat")[:500]:
        d = haversine_m(lon, lat, ev_lon, ev_lat)
        if d <= metres:
            found.append((d, pk))
    found.sort()
    nearest = [pk for _d, pk in found[:10]]
    if not nearest:
        return []
    rows = Event.objects.dangerously_unscoped().in_bulk(nearest)
    return [rows[pk] for pk in nearest]


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))
