"""Linkage (一张网的数据): departments' lists, their uploaded batches and rows, the review queue
and the provenance of values. See docs/architecture.md, "Linkage"."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from wangge.core.crypto import EncryptedField
from wangge.core.scope import ScopedModel


class RecordKind(models.TextChoices):
    PEOPLE = "people", _("People")
    ORGANISATIONS = "organisations", _("Organisations")


class BelowPolicy(models.TextChoices):
    """What a row that matches nobody becomes."""

    NEW = "new", _("A new ledger record")
    TAG = "tag", _("Only listed, no new record")


class Source(ScopedModel):
    """A department's own list (民政's elderly-subsidy list …): its columns, what it is trusted
    for and how sure a link must be. Belongs to a district."""

    scope_code_field: ClassVar[str | None] = "region_code"

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    department_code = models.CharField(_("department"), max_length=32, blank=True)
    kind = models.CharField(_("record kind"), max_length=16, choices=RecordKind.choices)
    region_code = models.CharField(max_length=15, db_index=True)
    # ledger field → the header that holds it, confirmed once and kept for the next file.
    mapping = models.JSONField(default=dict, blank=True)
    # fields whose values from this source win over the others' (公安: id_number …).
    trusted = models.JSONField(default=list, blank=True)
    upper = models.FloatField(_("link above"), default=0.9)
    lower = models.FloatField(_("review above"), default=0.5)
    below = models.CharField(
        _("below the review threshold"),
        max_length=8,
        choices=BelowPolicy.choices,
        default=BelowPolicy.NEW,
    )
    # The care tag a person on this list gets (民政 elderly list → 高龄); empty: none.
    care_tag = models.CharField(_("care tag"), max_length=20, blank=True)
    # Being on the list says something sensitive (a mental-health or drug-treatment list):
    # its name and values are shown only to holders of `ledger.sensitive`.
    sensitive = models.BooleanField(_("sensitive list"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("department list")
        verbose_name_plural = _("department lists")

    def __str__(self) -> str:
        return self.name


class BatchStatus(models.TextChoices):
    IMPORTED = "imported", _("Uploaded, not linked yet")
    RUNNING = "running", _("Linking")
    LINKED = "linked", _("Linked")
    FAILED = "failed", _("Failed")


class Batch(ScopedModel):
    """One uploaded file of a source (its monthly list)."""

    scope_code_field: ClassVar[str | None] = "region_code"

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="batches")
    region_code = models.CharField(max_length=15, db_index=True)
    filename = models.CharField(_("file"), max_length=200)
    status = models.CharField(
        max_length=10, choices=BatchStatus.choices, default=BatchStatus.IMPORTED
    )
    rows = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    mapping = models.JSONField(default=dict, blank=True)  # as used for this file
    created_by_name = models.CharField(max_length=150)
    created_by_id = models.BigIntegerField(null=True, blank=True)  # None: the system, a command
    created_at = models.DateTimeField()
    run_at = models.DateTimeField(null=True, blank=True)
    run_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("batch")
        verbose_name_plural = _("batches")

    def __str__(self) -> str:
        return f"{self.source.name} #{self.pk}"


class RowStatus(models.TextChoices):
    PENDING = "pending", _("Not linked yet")
    LINKED = "linked", _("Linked")
    REVIEW = "review", _("In review")
    NEW = "new", _("New")
    REJECTED = "rejected", _("Rejected")


class LinkMethod(models.TextChoices):
    EXACT = "exact", _("Same ID number or credit code")
    PROBABLE = "probable", _("Probable match")
    REVIEWED = "reviewed", _("Confirmed in review")
    CREATED = "created", _("New record")


class BatchRow(ScopedModel):
    """One row of an uploaded file. Its values are one encrypted JSON object; the scope is the
    grid of the record it links to or where it was placed (the district when nowhere)."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="batch_rows")
    row = models.PositiveIntegerField()  # as the spreadsheet numbers it (header = 1)
    values = EncryptedField(blank=True)
    id_index = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(max_length=10, choices=RowStatus.choices, default=RowStatus.PENDING)
    method = models.CharField(max_length=10, choices=LinkMethod.choices, blank=True)
    record_id = models.BigIntegerField(null=True, blank=True)
    probability = models.FloatField(null=True, blank=True)
    errors = models.JSONField(default=list, blank=True)  # [{"column", "message"}]
    grid_code = models.CharField(max_length=15, db_index=True)

    class Meta:
        ordering = ["batch_id", "row"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "row"], name="linkage_row_unique"),
        ]
        indexes = [models.Index(fields=["batch", "status"], name="linkage_row_status")]


class PairKind(models.TextChoices):
    BATCH = "batch", _("A list's row and a ledger record")
    DUPLICATE = "duplicate", _("Two ledger records")


class PairStatus(models.TextChoices):
    OPEN = "open", _("To review")
    ACCEPTED = "accepted", _("The same")
    REJECTED = "rejected", _("Not the same")
    UNSURE = "unsure", _("Not sure")
    CLOSED = "closed", _("Settled by another pair")


class Pair(ScopedModel):
    """A suspected match in the review queue: a batch row against a ledger record, or two
    ledger records (`left_id`, `record_id`) that may be one. Decided pairs are the labels the
    thresholds are evaluated against."""

    kind = models.CharField(max_length=10, choices=PairKind.choices)
    record_kind = models.CharField(max_length=16, choices=RecordKind.choices)
    batch_row = models.ForeignKey(
        BatchRow, null=True, blank=True, on_delete=models.CASCADE, related_name="pairs"
    )
    left_id = models.BigIntegerField(null=True, blank=True)
    record_id = models.BigIntegerField()
    probability = models.FloatField()
    weight = models.FloatField()
    evidence = models.JSONField(default=list)  # [{"field", "level", "weight"}], never values
    status = models.CharField(max_length=10, choices=PairStatus.choices, default=PairStatus.OPEN)
    decided_by_name = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)
    merge_id = models.BigIntegerField(null=True, blank=True)
    grid_code = models.CharField(max_length=15, db_index=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-probability", "id"]
        indexes = [models.Index(fields=["status", "grid_code"], name="linkage_pair_queue")]


class FieldValue(ScopedModel):
    """Provenance: one value a source gave for a field of a ledger record, when and from which
    batch. Values are encrypted; `value_index` (a blind index) tells equal values apart
    without them. `wins` marks the value the trust policy prefers for the field."""

    record_kind = models.CharField(max_length=16, choices=RecordKind.choices)
    record_id = models.BigIntegerField()
    field = models.CharField(max_length=32)
    value = EncryptedField(blank=True)
    value_index = models.CharField(max_length=64)
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="+")
    observed_on = models.DateField()
    wins = models.BooleanField(default=False)
    grid_code = models.CharField(max_length=15, db_index=True)

    class Meta:
        ordering = ["record_kind", "record_id", "field", "-observed_on", "id"]
        indexes = [
            models.Index(fields=["record_kind", "record_id"], name="linkage_value_record"),
        ]
