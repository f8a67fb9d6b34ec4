"""Writes other than the workflow: photos, categories, the calendar, Open311 keys,
notifications read."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core.audit import audit_record
from wangge.core.crypto import keyring
from wangge.core.errors import NotFound, ValidationFailed
from wangge.core.roles import Perm
from wangge.core.scope import as_scope, require_any
from wangge.core.services import secret_digest
from wangge.events.models import (
    CalendarDay,
    Category,
    Event,
    EventPhoto,
    LimitUnit,
    Notification,
    Open311Client,
)

_MAGIC = {
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"RIFF": "image/webp",
}
MAX_PHOTOS = 6


def _photo_dir() -> Path:
    path = Path(settings.DATA_DIR) / "photos"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def sniff_image(data: bytes) -> str | None:
    for magic, ctype in _MAGIC.items():
        if data.startswith(magic):
            if ctype == "image/webp" and data[8:12] != b"WEBP":
                return None
            return ctype
    return None


def photos_add(
    *, actor: Any, event: Event, files: list[bytes], stage: str, now: dt.datetime | None = None
) -> list[EventPhoto]:
    """Store photos (JPEG/PNG/WebP, checked by their bytes), encrypted at rest: faces and
    doorways are personal data too."""
    scope = as_scope(actor)
    now = now or timezone.now()
    stored = EventPhoto.objects.dangerously_unscoped().filter(event=event)
    if len(files) + stored.count() > MAX_PHOTOS * 3:
        raise ValidationFailed(_("Too many photos for one event."), code="too_many_photos")
    if len(files) > MAX_PHOTOS:
        raise ValidationFailed(
            _("At most %(n)d photos at a time.") % {"n": MAX_PHOTOS}, code="too_many_photos"
        )
    saved = []
    for data in files:
        if len(data) > settings.EVENTS_PHOTO_MAX_BYTES:
            raise ValidationFailed(_("A photo is too large."), code="photo_too_large")
        ctype = sniff_image(data)
        if ctype is None:
            raise ValidationFailed(
                _("Only JPEG, PNG or WebP photos can be attached."), code="not_an_image"
            )
        digest = hashlib.sha256(data).hexdigest()
        already = stored.filter(sha256=digest).first()
        if already is not None:  # a retried upload from a phone that lost the answer
            saved.append(already)
            continue
        name = f"{event.pk}-{secrets.token_hex(8)}"
        sealed = keyring().encrypt(base64.b64encode(data).decode(), context=f"photo:{name}")
        path = _photo_dir() / name
        path.write_text(sealed)
        path.chmod(0o600)
        saved.append(
            EventPhoto.objects.create(
                event=event,
                stage=stage,
                path=name,
                content_type=ctype,
                size=len(data),
                sha256=digest,
                uploaded_by=scope.username,
                uploaded_at=now,
            )
        )
    return saved


def photo_read(photo: EventPhoto) -> bytes:
    path = _photo_dir() / photo.path
    if not path.exists():
        raise NotFound()
    plain = keyring().decrypt(path.read_text(), context=f"photo:{photo.path}")
    return base64.b64decode(plain)


def photo_keys_in_use() -> set[str]:
    """The keys the stored photos are sealed with (for `wangge keys retire`)."""
    ring = keyring()
    used = set()
    for name in EventPhoto.objects.dangerously_unscoped().values_list("path", flat=True).iterator():
        path = _photo_dir() / name
        if path.exists():
            with path.open() as handle:
                used.add(ring.key_of(handle.read(64)))
    return used


def photos_reencrypt() -> int:
    """Re-seal photos under the active key (`wangge keys rotate`); each file is replaced
    atomically, so an interruption leaves every file readable."""
    ring = keyring()
    done = 0
    for name in EventPhoto.objects.dangerously_unscoped().values_list("path", flat=True).iterator():
        path = _photo_dir() / name
        if not path.exists():
            continue
        sealed = path.read_text()
        if ring.key_of(sealed) == ring.active:
            continue
        context = f"photo:{name}"
        fresh = ring.encrypt(ring.decrypt(sealed, context=context), context=context)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(fresh)
        tmp.chmod(0o600)
        tmp.replace(path)
        done += 1
    return done


@transaction.atomic
def category_update(*, actor: Any, category: Category, **fields: Any) -> Category:
    scope = as_scope(actor)
    if not scope.has(Perm.EVENTS_CONFIGURE):
        raise NotFound()
    allowed = {
        "name",
        "department_id",
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
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationFailed(details={"unknown": sorted(unknown)})
    for unit in ("accept_unit", "handle_unit", "verify_unit"):
        if unit in fields and fields[unit] not in LimitUnit.values:
            raise ValidationFailed(_("Unknown time unit."), code="invalid_unit")
    for limit in ("accept_limit", "handle_limit", "verify_limit"):
        if limit in fields and not (1 <= int(fields[limit]) <= 10_000):
            raise ValidationFailed(_("A time limit must be at least 1."), code="invalid_limit")
    changed = {k: v for k, v in fields.items() if getattr(category, k) != v}
    for k, v in changed.items():
        setattr(category, k, v)
    category.save()
    audit_record(
        actor=scope,
        action="event.category_update",
        object_type="category",
        object_id=category.code,
        details={"changed": {k: str(v) for k, v in changed.items()}},
    )
    return category


@transaction.atomic
def calendar_set(
    *, actor: Any, date: dt.date, is_workday: bool | None, note: str = ""
) -> CalendarDay | None:
    """Override one date (None removes the override). Deadlines already set do not move."""
    scope = as_scope(actor)
    if not scope.has(Perm.EVENTS_CONFIGURE):
        raise NotFound()
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


def open311_key_create(*, actor: Any, name: str) -> tuple[Open311Client, str]:
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
