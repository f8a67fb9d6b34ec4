"""Events (事): categories, the working calendar, the case, its log, photos, notifications and
Open311 clients. The workflow (`workflow.py`) is the only writer of an event's status."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wangge.core.crypto import EncryptedField
from wangge.core.models import Department
from wangge.core.roles import Perm
from wangge.core.scope import ScopedModel


class LimitUnit(models.TextChoices):
    MINUTE = "minute", _("working minutes")
    HOUR = "hour", _("working hours")
    DAY = "day", _("working days")


class Category(models.Model):
    """A node of the category tree: a major category (no parent) or a minor one.

    Only minor categories are reported against; they name the responsible department, whether
    the grid may resolve the matter itself (小事不出网格) and a time limit per stage.
    """

    scope_exempt: ClassVar[str] = (
        "configuration: the category tree, the same for the whole district"
    )

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=64)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    self_resolve = models.BooleanField(_("grid may resolve it itself"), default=False)
    public = models.BooleanField(_("open to residents and Open311"), default=True)
    accept_limit = models.PositiveIntegerField(default=2)
    accept_unit = models.CharField(max_length=8, choices=LimitUnit.choices, default=LimitUnit.HOUR)
    handle_limit = models.PositiveIntegerField(default=1)
    handle_unit = models.CharField(max_length=8, choices=LimitUnit.choices, default=LimitUnit.DAY)
    verify_limit = models.PositiveIntegerField(default=30)
    verify_unit = models.CharField(
        max_length=8, choices=LimitUnit.choices, default=LimitUnit.MINUTE
    )
    active = models.BooleanField(default=True)
    sort = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["sort", "code"]
        verbose_name = _("event category")
        verbose_name_plural = _("event categories")

    def __str__(self) -> str:
        return self.name

    @property
    def is_minor(self) -> bool:
        return self.parent_id is not None

    @property
    def limits(self) -> list[tuple[str, int, str]]:
        return [
            ("accept", self.accept_limit, self.accept_unit),
            ("handle", self.handle_limit, self.handle_unit),
            ("verify", self.verify_limit, self.verify_unit),
        ]


class CalendarDay(models.Model):
    """An administrator's override of one date (a local holiday, a day worked in a flood…)."""

    scope_exempt: ClassVar[str] = "configuration: the working calendar"

    date = models.DateField(unique=True)
    is_workday = models.BooleanField()
    note = models.CharField(max_length=100, blank=True)
    changed_by = models.CharField(max_length=150, blank=True)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")

    def __str__(self) -> str:
        return f"{self.date} {'workday' if self.is_workday else 'holiday'}"


class Channel(models.TextChoices):
    PATROL = "patrol", _("Grid patrol")
    RESIDENT = "resident", _("Resident")
    HOTLINE = "hotline", _("12345 hotline")
    OPEN311 = "open311", _("Open311 client")
    ASSIGNED = "assigned", _("Assigned from above")
    VIDEO = "video", _("Video")
    PETITION = "petition", _("Petition")


# Reports that came from the public: the only events the public may read or track.
PUBLIC_CHANNELS = (Channel.RESIDENT, Channel.HOTLINE, Channel.OPEN311)

# What the public sees of an event's log: the steps, never who or why inside the administration.
PUBLIC_ACTIONS = (
    "intake",
    "report",
    "accept",
    "reject",
    "dispatch",
    "assign",
    "self_resolve",
    "verify",
    "close",
    "close_special",
    "merge",
)
_PUBLIC_READS = (Perm.EVENTS_PUBLIC_READ, Perm.EVENTS_PUBLIC_TRACK)


class Status(models.TextChoices):
    PENDING = "pending", _("Waiting for acceptance")
    REJECTED = "rejected", _("Not accepted")
    FILED = "filed", _("Filed")
    DISPATCHED = "dispatched", _("Dispatched")
    HANDLING = "handling", _("Being handled")
    RETURNED = "returned", _("Returned by the department")
    PARKED = "parked", _("Parked")
    VERIFYING = "verifying", _("Waiting for verification")
    VERIFIED = "verified", _("Verified, waiting to close")
    CLOSED = "closed", _("Closed")
    MERGED = "merged", _("Merged into another event")


OPEN_STATUSES = frozenset(
    {
        Status.PENDING,
        Status.FILED,
        Status.DISPATCHED,
        Status.HANDLING,
        Status.RETURNED,
        Status.PARKED,
        Status.VERIFYING,
        Status.VERIFIED,
    }
)
# The open statuses in one order: every query of open events names them so, as literals
# (`status__literal_in`, wangge/core/lookups.py), which lets SQLite use the partial index of
# open events (it matches the index's condition term by term, and not bound parameters).
OPEN_STATUS_LIST = sorted(OPEN_STATUSES)
FINAL_STATUSES = frozenset({Status.REJECTED, Status.CLOSED, Status.MERGED})


class Tier(models.IntegerChoices):
    GRID = 0, _("Grid")
    COMMUNITY = 1, _("Community")
    STREET = 2, _("Street")
    DISTRICT = 3, _("District")


class CloseKind(models.TextChoices):
    NORMAL = "normal", _("Normal")
    OVERDUE = "overdue", _("Overdue")
    SPECIAL = "special", _("Special")
    ERRONEOUS = "erroneous", _("Erroneous")


class Event(ScopedModel):
    """A case. `grid_code` places it; `department_code` is the department it is dispatched to
    (empty otherwise), so a department-narrowed grant sees exactly its own queue."""

    scope_department_field: ClassVar[str | None] = "department_code"

    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="events")
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), max_length=4000, blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    status = models.CharField(max_length=16, choices=Status.choices, db_index=True)
    tier = models.PositiveSmallIntegerField(choices=Tier.choices, default=Tier.GRID)
    grid_code = models.CharField(max_length=15, db_index=True)
    department_code = models.CharField(max_length=32, blank=True, db_index=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reporter_name = EncryptedField(_("reporter's name"), blank=True)
    reporter_phone = EncryptedField(_("reporter's phone"), blank=True)
    # The phone's blind index (keyed HMAC of the normalised number): the hotline finds a
    # caller's earlier reports without decrypting every event (see intake.caller_index).
    reporter_phone_index = models.CharField(max_length=64, blank=True, db_index=True)
    tracking_code = models.CharField(max_length=16, null=True, blank=True, unique=True)
    intake_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    open311_client = models.ForeignKey(
        "Open311Client", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()
    filed_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    handle_due_at = models.DateTimeField(null=True, blank=True)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handler_department = models.CharField(max_length=32, blank=True)
    no_return = models.BooleanField(default=False)
    self_resolved = models.BooleanField(default=False)
    parked_from = models.CharField(max_length=16, blank=True)
    parked_at = models.DateTimeField(null=True, blank=True)
    extension_request = models.JSONField(null=True, blank=True)
    supervised = models.BooleanField(default=False)
    close_kind = models.CharField(max_length=16, choices=CloseKind.choices, blank=True)
    satisfaction = models.PositiveSmallIntegerField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged"
    )

    # Kept by the workflow so that indicators are one GROUP BY.
    overdue = models.BooleanField(default=False)
    overdue_marked_for = models.DateTimeField(null=True, blank=True)
    on_time = models.BooleanField(null=True, blank=True)
    return_count = models.PositiveSmallIntegerField(default=0)
    rework_count = models.PositiveSmallIntegerField(default=0)
    extend_count = models.PositiveSmallIntegerField(default=0)
    park_count = models.PositiveSmallIntegerField(default=0)
    handling_seconds = models.BigIntegerField(null=True, blank=True)
    version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "due_at"], name="event_status_due_idx"),
            models.Index(fields=["category", "created_at"], name="event_category_idx"),
            # Duplicate suggestions: same category, a narrow band of latitude.
            models.Index(fields=["category", "lat"], name="event_duplicate_idx"),
            # The dashboard's facts: the days closed on, the events changed since a watermark.
            models.Index(fields=["closed_at"], name="event_closed_at_idx"),
            models.Index(fields=["updated_at"], name="event_updated_at_idx"),
            # The live numbers (open, overdue, ageing): only the open events, small however
            # long the history, and covering what the counts read.
            models.Index(
                fields=["grid_code", "department_code", "overdue", "created_at"],
                condition=Q(status__in=OPEN_STATUS_LIST),
                name="event_open_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_at__isnull=False),
                name="event_closed_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="merged") | Q(merged_into__isnull=False),
                name="event_merged_has_target",
            ),
        ]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @classmethod
    def scope_public_q(cls, perm: Perm) -> Q | None:
        if perm not in _PUBLIC_READS:
            return None
        return Q(channel__in=PUBLIC_CHANNELS, category__public=True)

    @property
    def number(self) -> str:
        """The case number people read out on the phone: SJ + date + id."""
        return f"SJ{self.created_at:%Y%m%d}{self.pk:06d}" if self.pk else ""

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class EventAction(ScopedModel):
    """One line of an event's log: who did what, when, from which status to which, and why.
    Scoped through its event; the public follows only the public steps of public reports."""

    scope_code_field: ClassVar[str | None] = "event__grid_code"
    scope_department_field: ClassVar[str | None] = "event__department_code"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="actions")
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    action = models.CharField(max_length=32)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["event", "at"], name="event_action_idx")]
        verbose_name = _("event action")
        verbose_name_plural = _("event actions")

    def __str__(self) -> str:
        return f"{self.event_id} {self.action}"

    @classmethod
    def scope_public_q(cls, perm: Perm) -> Q | None:
        if perm != Perm.EVENTS_PUBLIC_TRACK:
            return None
        return Q(
            action__in=PUBLIC_ACTIONS,
            event__channel__in=PUBLIC_CHANNELS,
            event__category__public=True,
        )


class EventPhoto(ScopedModel):
    """A photo taken at intake or when handling; the file lives under the data dir. Scoped
    through its event (never public: faces and doorways)."""

    scope_code_field: ClassVar[str | None] = "event__grid_code"
    scope_department_field: ClassVar[str | None] = "event__department_code"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="photos")
    stage = models.CharField(max_length=16)  # report | handle | verify
    path = models.CharField(max_length=200)
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.CharField(max_length=150)
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.path

    @property
    def stage_label(self) -> str:
        """The stage in words for the page's caption (not "report · 12-02")."""
        return str(PHOTO_STAGE_LABELS.get(self.stage, self.stage))


PHOTO_STAGE_LABELS = {
    "report": _("Photo at report"),
    "handle": _("Photo after handling"),
    "verify": _("Photo at verification"),
}


class Notification(ScopedModel):
    """An in-app message to one user: only that user reads it."""

    scope_code_field: ClassVar[str | None] = None
    scope_owner_field: ClassVar[str | None] = "user"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    event = models.ForeignKey(Event, null=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32)
    message = models.CharField(max_length=300)
    # Where the message leads when it is not about an event (a campaign task): a site path.
    link = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread_idx")]

    def __str__(self) -> str:
        return self.message


class Open311Client(models.Model):
    """An Open311 client (a WeChat mini-program, the 12345 platform…). Only the key's SHA-256
    is stored; the key is printed once by `wangge open311 keys create NAME`."""

    scope_exempt: ClassVar[str] = "a client's name and key digest; managed by the CLI"

    name = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
