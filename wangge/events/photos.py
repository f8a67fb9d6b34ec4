"""Event photos: who may attach them at which stage, checking them, and the sealed files.

Photos are attached with the step they belong to, in its transaction: with a report
(`intake.event_report(photos=…)`), with a workflow action (`workflow.transition(photos=…)`,
the stage named by the action's rule), or on their own (`services.photos_add`, the API). They
are checked (size, type, count) before anything is written, so a bad photo refuses the whole
step instead of leaving half of it done. Files are encrypted at rest: faces and doorways are
personal data too.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from wangge.core.audit import audit_record
from wangge.core.crypto import keyring
from wangge.core.errors import NotFound, PermissionDenied, ValidationFailed
from wangge.core.roles import Perm
from wangge.core.scope import Scope
from wangge.events.models import Event, EventPhoto

_MAGIC = {
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"RIFF": "image/webp",
}
MAX_PHOTOS = 6  # at a time
MAX_PER_EVENT = MAX_PHOTOS * 3
STAGES = ("report", "handle", "verify")


@dataclass(frozen=True)
class Photo:
    """A checked upload, not stored yet."""

    data: bytes
    content_type: str
    sha256: str


def sniff_image(data: bytes) -> str | None:
    for magic, ctype in _MAGIC.items():
        if data.startswith(magic):
            if ctype == "image/webp" and data[8:12] != b"WEBP":
                return None
            return ctype
    return None


def validate(files: Sequence[bytes]) -> list[Photo]:
    """Check every photo (count, size, type by its bytes) before anything is written."""
    if len(files) > MAX_PHOTOS:
        raise ValidationFailed(
            _("At most %(n)d photos at a time.") % {"n": MAX_PHOTOS}, code="too_many_photos"
        )
    checked = []
    for data in files:
        if len(data) > settings.EVENTS_PHOTO_MAX_BYTES:
            raise ValidationFailed(_("A photo is too large."), code="photo_too_large")
        ctype = sniff_image(data)
        if ctype is None:
            raise ValidationFailed(
                _("Only JPEG, PNG or WebP photos can be attached."), code="not_an_image"
            )
        checked.append(Photo(data, ctype, hashlib.sha256(data).hexdigest()))
    return checked


def refusal(scope: Scope, event: Event, stage: str) -> str | None:
    """Who may attach photos at which stage, decided by the grant covering the event: the
    report's by its reporter or whoever may report there; the handling's by the department it
    is dispatched to (or the grid worker who resolved it in the grid); the verification's by
    whoever may verify there. A message when the actor may not."""
    if stage not in STAGES:
        return _("Photos are taken at the report, handling or verification.")
    if scope.is_system:
        return None
    if stage == "report":
        if scope.user_id is not None and event.reporter_id == scope.user_id:
            return None
        if scope.holds_for(Perm.EVENTS_REPORT, event):
            return None
    elif stage == "handle":
        if scope.holds_for(Perm.EVENTS_HANDLE, event):
            return None
        if event.self_resolved and scope.user_id is not None and event.handler_id == scope.user_id:
            return None
    elif scope.holds_for(Perm.EVENTS_VERIFY, event):
        return None
    return _("You may not add photos at this stage of this event.")


def require(scope: Scope, event: Event, stage: str) -> None:
    """`refusal()` or PermissionDenied."""
    refused = refusal(scope, event, stage)
    if refused:
        raise PermissionDenied(refused)


def attach(
    *,
    scope: Scope,
    event: Event,
    photos: list[Photo],
    stage: str,
    now: dt.datetime,
    as_reporter: bool = False,
) -> list[EventPhoto]:
    """Store checked photos on an event inside the caller's transaction, and audit it (the
    count and the stage, never the bytes). `as_reporter`: the caller is filing the report these
    photos belong to (intake), which is the reporter's right whoever they are (a resident has
    no user to compare)."""
    if not as_reporter:
        require(scope, event, stage)
    stored = EventPhoto.objects.dangerously_unscoped().filter(event=event)
    if len(photos) + stored.count() > MAX_PER_EVENT:
        raise ValidationFailed(_("Too many photos for one event."), code="too_many_photos")
    saved: list[EventPhoto] = []
    written: list[Path] = []
    try:
        for photo in photos:
            already = stored.filter(sha256=photo.sha256).first()
            if already is not None:  # a retried upload from a phone that lost the answer
                saved.append(already)
                continue
            name = f"{event.pk}-{secrets.token_hex(8)}"
            sealed = keyring().encrypt(base64.b64encode(photo.data).decode(), context=_ctx(name))
            path = _photo_dir() / name
            path.write_text(sealed)
            path.chmod(0o600)
            written.append(path)
            saved.append(
                EventPhoto.objects.create(
                    event=event,
                    stage=stage,
                    path=name,
                    content_type=photo.content_type,
                    size=len(photo.data),
                    sha256=photo.sha256,
                    uploaded_by=scope.username,
                    uploaded_at=now,
                )
            )
        audit_record(
            actor=scope,
            action="event.photos_add",
            object_type="event",
            object_id=event.pk,
            details={"count": len(photos), "stage": stage},
        )
    except BaseException:
        for path in written:  # the rows roll back; the files must not outlive them
            path.unlink(missing_ok=True)
        raise
    return saved


def read(photo: EventPhoto) -> bytes:
    path = _photo_dir() / photo.path
    if not path.exists():
        raise NotFound()
    plain = keyring().decrypt(path.read_text(), context=_ctx(photo.path))
    return base64.b64decode(plain)


def keys_in_use() -> set[str]:
    """The keys the stored photos are sealed with (for `wangge keys retire`)."""
    ring = keyring()
    used = set()
    for name in EventPhoto.objects.dangerously_unscoped().values_list("path", flat=True).iterator():
        path = _photo_dir() / name
        if path.exists():
            with path.open() as handle:
                used.add(ring.key_of(handle.read(64)))
    return used


def reencrypt() -> int:
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
        fresh = ring.encrypt(ring.decrypt(sealed, context=_ctx(name)), context=_ctx(name))
        tmp = path.with_suffix(".tmp")
        tmp.write_text(fresh)
        tmp.chmod(0o600)
        tmp.replace(path)
        done += 1
    return done


def _ctx(name: str) -> str:
    return f"photo:{name}"


def photo_directory() -> Path:
    """Where the sealed photos are kept (a file store of backups, core.backup)."""
    return _photo_dir()


def _photo_dir() -> Path:
    path = Path(settings.DATA_DIR) / "photos"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
