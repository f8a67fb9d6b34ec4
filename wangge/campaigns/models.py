"""Campaigns (采集核查专项行动): templates, campaigns, one task per grid, the worklist, the
edits phones send, and the data-quality snapshot. See docs/architecture.md, "Campaigns"."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wangge.core.crypto import EncryptedField
from wangge.core.scope import ScopedModel


class Kind(models.TextChoices):
    """The kinds of record a campaign covers (人、地、事物、组织)."""

    PERSON = "person", _("People")
    HOUSEHOLD = "household", _("Households")
    ROOM = "room", _("Addresses (rooms)")
    ORGANISATION = "organisation", _("Organisations")
    THING = "thing", _("Things")


# The worklist's order inside a room: the room, its households, their people.
KIND_ORDER = {"room": 0, "household": 1, "person": 2, "organisation": 3, "thing": 4}


class Outcome(models.TextChoices):
    """A household visit's outcome (入户走访)."""

    VISITED = "visited", _("Visited")
    NOBODY_HOME = "nobody_home", _("Nobody home, revisit")
    REFUSED = "refused", _("Refused")
    VACANT = "vacant", _("Vacant")


class Template(models.Model):
    """A kind of campaign, as the district configures it (seeded: basic, visit, rental,
    hazard). `spec` says what a campaign made from it covers:

    {"kinds": ["person", …], "fields": {"person": ["name", …]}, "selection": {"room":
    "rented", …}, "visits": bool, "findings": bool, "review": ["community"], "spot_check":
    0.1}
    """

    scope_exempt: ClassVar[str] = "reference data: the kinds of campaign, district-wide"

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    description = models.CharField(_("description"), max_length=300, blank=True)
    spec = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("campaign template")
        verbose_name_plural = _("campaign templates")

    def __str__(self) -> str:
        return self.name


class CampaignStatus(models.TextChoices):
    OPEN = "open", _("Under way")
    CLOSED = "closed", _("Finished")


class Campaign(ScopedModel):
    """One campaign over some regions. `region_code` is the narrowest region holding all of
    them (what the scope filters on); `regions` are the codes chosen."""

    scope_code_field: ClassVar[str | None] = "region_code"

    name = models.CharField(_("name"), max_length=100)
    template = models.ForeignKey(Template, on_delete=models.PROTECT, related_name="campaigns")
    spec = models.JSONField(default=dict)  # the template's spec as it was at creation
    region_code = models.CharField(max_length=15, db_index=True)
    regions = models.JSONField(default=list)
    kinds = models.JSONField(default=list)
    start = models.DateField(_("start"))
    end = models.DateField(_("end"))
    status = models.CharField(
        max_length=8, choices=CampaignStatus.choices, default=CampaignStatus.OPEN
    )
    spot_check_rate = models.FloatField(default=0.0)
    # Households chosen by a selection (the epidemic list): only these are visited.
    criteria = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-start", "-id"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")

    def __str__(self) -> str:
        return self.name


class TaskState(models.TextChoices):
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    SUBMITTED = "submitted", _("Submitted")
    REVIEWED = "reviewed", _("Approved, awaiting spot check")
    APPROVED = "approved", _("Approved")
    RETURNED = "returned", _("Returned")


OPEN_STATES = (TaskState.ASSIGNED, TaskState.IN_PROGRESS, TaskState.RETURNED)


class Task(ScopedModel):
    """One grid's share of a campaign (or an estate's or building's, when a large grid is
    split: `parent` is then the grid's task)."""

    scope_code_field: ClassVar[str | None] = "grid_code"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="tasks")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="parts"
    )
    grid_code = models.CharField(max_length=15)
    title = models.CharField(max_length=200)
    estate_id = models.BigIntegerField(null=True, blank=True)
    building_id = models.BigIntegerField(null=True, blank=True)
    state = models.CharField(max_length=12, choices=TaskState.choices, default=TaskState.ASSIGNED)
    version = models.PositiveIntegerField(default=1)
    # Assigned to the grid's team (anyone serving in the grid's team may work it), or open:
    # a worker takes it and holds it until `held_until`.
    team_assigned = models.BooleanField(default=True)
    held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    held_until = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    spot_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    spot_checked_at = models.DateTimeField(null=True, blank=True)
    spot_check = models.BooleanField(default=False)  # picked for the street's second approval
    returned_reason = models.CharField(max_length=300, blank=True)
    returns = models.PositiveSmallIntegerField(default=0)
    overdue_notified = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["grid_code", "id"]
        indexes = [
            models.Index(fields=["campaign", "grid_code"], name="task_campaign_grid_idx"),
            models.Index(fields=["campaign", "state"], name="task_campaign_state_idx"),
        ]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")

    def __str__(self) -> str:
        return self.title


class AssigneeRole(models.TextChoices):
    RESPONSIBLE = "responsible", _("Responsible")
    COLLECTOR = "collector", _("Collector")
    HELPER = "helper", _("Helper from outside the team")


class TaskAssignee(ScopedModel):
    """A user named on a task. A helper works the task only through it, inside the window."""

    scope_code_field: ClassVar[str | None] = "task__grid_code"

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="assignees")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="campaign_tasks"
    )
    role = models.CharField(max_length=12, choices=AssigneeRole.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "user"], name="task_assignee_unique"),
        ]
        verbose_name = _("task assignee")
        verbose_name_plural = _("task assignees")

    def __str__(self) -> str:
        return f"{self.task_id} {self.user_id} {self.role}"


class RecordStatus(models.TextChoices):
    PENDING = "pending", _("To check")
    CONFIRMED = "confirmed", _("Confirmed")
    CORRECTED = "corrected", _("Corrected")
    RETIRED = "retired", _("Retired")
    ADDED = "added", _("Added")
    CONFLICT = "conflict", _("Conflict")


DONE_STATUSES = (
    RecordStatus.CONFIRMED,
    RecordStatus.CORRECTED,
    RecordStatus.RETIRED,
    RecordStatus.ADDED,
)


class TaskRecord(ScopedModel):
    """One record on a task's worklist, and what the field found."""

    scope_code_field: ClassVar[str | None] = "grid_code"

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="records")
    campaign_id_copy = models.BigIntegerField(db_index=True)  # for the progress GROUP BY
    grid_code = models.CharField(max_length=15)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    record_id = models.BigIntegerField()
    sort_key = models.CharField(max_length=80, blank=True)  # estate/building/unit/room order
    status = models.CharField(
        max_length=10, choices=RecordStatus.choices, default=RecordStatus.PENDING
    )
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    checked_version = models.PositiveIntegerField(null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sort_key", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "kind", "record_id"], name="task_record_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["campaign_id_copy", "grid_code", "kind", "status"],
                name="task_record_progress_idx",
            ),
        ]
        verbose_name = _("task record")
        verbose_name_plural = _("task records")


class EditOp(models.TextChoices):
    CONFIRM = "confirm", _("Confirm")
    CORRECT = "correct", _("Correct")
    RETIRE = "retire", _("Retire")
    ADD = "add", _("Add")
    VISIT = "visit", _("Visit outcome")
    FINDING = "finding", _("Hazard finding")


class EditStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    CONFLICT = "conflict", _("Conflict")
    REJECTED = "rejected", _("Rejected")
    HELD = "held", _("Waiting for an earlier edit")
    RESOLVED = "resolved", _("Conflict resolved")


class FieldEdit(ScopedModel):
    """An edit sent from the field. `values` are encrypted: they may hold an ID number."""

    scope_code_field: ClassVar[str | None] = "grid_code"

    key = models.CharField(max_length=120, unique=True)  # the idempotency key
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="edits")
    grid_code = models.CharField(max_length=15)
    device = models.CharField(max_length=64, blank=True)
    seq = models.PositiveIntegerField(default=0)
    made_at = models.DateTimeField()
    received_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    op = models.CharField(max_length=10, choices=EditOp.choices)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    record_id = models.BigIntegerField(null=True, blank=True)
    ref = models.CharField(max_length=64, blank=True)  # the phone's name for a record it added
    base_version = models.PositiveIntegerField(null=True, blank=True)
    values = EncryptedField(blank=True)  # JSON
    status = models.CharField(max_length=10, choices=EditStatus.choices)
    errors = models.JSONField(default=list, blank=True)
    conflict_fields = models.JSONField(default=list, blank=True)
    resolution = models.CharField(max_length=8, blank=True)  # server | field
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["made_at", "seq", "id"]
        indexes = [
            models.Index(fields=["task", "status"], name="field_edit_task_status_idx"),
            models.Index(fields=["task", "device", "seq"], name="field_edit_device_seq_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "device", "seq"],
                condition=~Q(device=""),
                name="field_edit_device_seq_unique",
            ),
        ]
        verbose_name = _("field edit")
        verbose_name_plural = _("field edits")


class QualitySnapshot(ScopedModel):
    """The data quality of one grid's records of one kind when the campaign opened."""

    scope_code_field: ClassVar[str | None] = "grid_code"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="quality")
    grid_code = models.CharField(max_length=15)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    counts = models.JSONField(default=dict)
    taken_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "grid_code", "kind"], name="quality_snapshot_unique"
            ),
        ]


class TaskAction(ScopedModel):
    """The log of a task: every state change, assignment, take, renewal and expiry."""

    scope_code_field: ClassVar[str | None] = "grid_code"

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="actions")
    grid_code = models.CharField(max_length=15)
    action = models.CharField(max_length=16)
    from_state = models.CharField(max_length=12)
    to_state = models.CharField(max_length=12)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_name = models.CharField(max_length=150)
    reason = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
