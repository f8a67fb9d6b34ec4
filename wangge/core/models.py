from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from wangge.core.roles import Role
from wangge.core.scope import ScopedModel


class User(AbstractUser):
    """A person who logs in. What they may see comes only from their grants."""

    scope_exempt: ClassVar[str] = (
        "accounts: managed by the district administrator and the CLI (users.manage)"
    )

    display_name = models.CharField(_("display name"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username


class Department(models.Model):
    """A functional department (职能部门): 城管, 市场监管 … Reference data used by every module."""

    scope_exempt: ClassVar[str] = (
        "reference data (a department's code and name), public inside the system"
    )

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64, unique=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class Grant(models.Model):
    """A role over a scope: a region code (a prefix of every code below it), maybe one department.

    The region is held as its code, not a foreign key, so that `core` does not depend on
    `regions`; `regions.services.grant_create` checks that the region exists.
    """

    scope_exempt: ClassVar[str] = (
        "who may see what: read only to build a user's own scope, written by users.manage"
    )

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grants"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    region_code = models.CharField(_("region code"), max_length=15)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="grants"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "region_code", "department"], name="grant_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(role=Role.DEPARTMENT_OFFICER, department__isnull=False)
                | ~models.Q(role=Role.DEPARTMENT_OFFICER),
                name="grant_department_officer_has_department",
            ),
        ]
        verbose_name = _("grant")
        verbose_name_plural = _("grants")

    def __str__(self) -> str:
        return f"{self.user} {self.role} {self.region_code}"


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 is stored; the token is shown once."""

    scope_exempt: ClassVar[str] = (
        "a token's digest and owner; created and revoked by the CLI, looked up by digest"
    )

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=64)
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"


class AuditEntry(models.Model):
    """One line of the append-only, hash-chained audit log.

    There is no update or delete path in the code, and database triggers (migration 0002)
    refuse UPDATE and DELETE. `hash` covers every field and the previous entry's hash, so
    `wangge audit verify` finds an edited, deleted or reordered entry. `scheme` says how `hash`
    was made: `sha256` for entries written before the chain was keyed, else the HMAC under the
    audit key (`hmac-sha256` or `hmac-sm3`, see core/audit.py).
    """

    scope_exempt: ClassVar[str] = (
        "the whole log is readable with audit.view only (core.selectors.audit_list)"
    )

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_name = models.CharField(max_length=150)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=16, default="success")
    client_ip = models.CharField(max_length=45, blank=True)
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    scheme = models.CharField(max_length=16)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class Job(ScopedModel):
    """Background work, claimed from this table by `wangge worker` (no broker needed).

    A claim is one conditional UPDATE (`… WHERE status = 'queued'`), so two workers never run
    the same job and running the worker twice is harmless. A job (and the files it keeps) is
    its creator's: only they see it.
    """

    scope_code_field: ClassVar[str | None] = None
    scope_owner_field: ClassVar[str | None] = "created_by"

    kind = models.CharField(max_length=64)
    status = models.CharField(
        max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    params = models.JSONField(default=dict, blank=True)
    progress = models.BigIntegerField(default=0)
    total = models.BigIntegerField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")

    def __str__(self) -> str:
        return f"{self.kind}#{self.pk} {self.status}"


class WorkerBeat(models.Model):
    """The last sign of life of one `wangge worker` process, and how its periodic tasks went.

    Kept in the database (not a file) so that /healthz, /metrics and `wangge check` on any
    application server see a worker running on another. Written by the worker itself every
    `jobs.BEAT_SECONDS` and after each periodic task; not audited (one entry every few seconds
    would drown the log, as checkpoints would). Rows of workers silent for a day are pruned.
    """

    scope_exempt: ClassVar[str] = (
        "operational state of the worker processes (no personal data), read by the system only"
    )

    name = models.CharField(max_length=128, unique=True)  # host:pid
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)
    # {task: {"at": ISO time, "seconds": duration, "ok": bool}} for the periodic tasks it ran.
    periodic = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return f"{self.name} {self.seen_at:%Y-%m-%d %H:%M:%S}"


class SavedFilter(ScopedModel):
    """A list's filters saved under a name by one user (docs/ui.md "Tables"): the list's query
    string, kept without its page and without any full ID number or phone (those are never
    stored in the clear). Only its owner sees it."""

    scope_code_field: ClassVar[str | None] = None
    scope_owner_field: ClassVar[str | None] = "user"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters"
    )
    list_name = models.CharField(_("list"), max_length=32)  # events.inbox, ledger.people
    name = models.CharField(_("name"), max_length=40)
    query = models.CharField(_("filters"), max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "list_name", "name"], name="saved_filter_unique_name"
            )
        ]
        verbose_name = _("saved filter")
        verbose_name_plural = _("saved filters")

    def __str__(self) -> str:
        return self.name
