"""The 人地事物组织 ledger: standard addresses, people and households, organisations, things.

Every row sits in exactly one grid (`grid_code`, denormalised and indexed: scope is a prefix
range on it). Personal fields are `EncryptedField`s with blind-index columns beside them.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wangge.core.crypto import EncryptedField
from wangge.core.scope import ScopedModel


class RetireReason(models.TextChoices):
    MOVED_AWAY = "moved_away", _("Moved away")
    DECEASED = "deceased", _("Deceased")
    CLOSED = "closed", _("Closed")
    REMOVED = "removed", _("Removed")
    DEMOLISHED = "demolished", _("Demolished")
    DUPLICATE = "duplicate", _("Registered twice")
    OTHER = "other", _("Other")


class LedgerRecord(ScopedModel):
    """What every ledger record has: a version that each change raises by one (an update names
    the version it started from, so a stale edit is refused, not silently applied over someone
    else's), and retirement instead of deletion (the record stays, with reason and date)."""

    # Database defaults too: the people importer's fast path inserts without the ORM.
    version = models.PositiveIntegerField(default=1, db_default=1)
    retired_on = models.DateField(_("retired on"), null=True, blank=True)
    retired_reason = models.CharField(
        _("reason for retiring"),
        max_length=16,
        choices=RetireReason.choices,
        blank=True,
        default="",
        db_default="",
    )
    retired_note = models.CharField(
        _("note"), max_length=200, blank=True, default="", db_default=""
    )
    # The last day someone checked the record in the field (a campaign's confirm or
    # correction); not a change of its values, so it does not move the version.
    verified_on = models.DateField(_("last verified"), null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def retired(self) -> bool:
        return self.retired_on is not None


class LedgerChange(ScopedModel):
    """One change of one ledger record: which version it made and the names of the fields it
    changed (never their values). A stale update is told which fields changed since the version
    it started from; the record's page shows its history."""

    kind = models.CharField(max_length=16)  # person, household, organisation, thing, …
    record_id = models.BigIntegerField()
    version = models.PositiveIntegerField()
    action = models.CharField(max_length=16)  # create, update, move, retire, restore, member, head
    fields = models.JSONField(default=list, blank=True)
    grid_code = models.CharField(max_length=15)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_name = models.CharField(max_length=150)
    at = models.DateTimeField()

    class Meta:
        ordering = ["kind", "record_id", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "record_id", "version"], name="ledger_change_unique_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.record_id} v{self.version} {self.action}"


class Estate(LedgerRecord):
    """小区. Code: community (12) + estate (3)."""

    code = models.CharField(_("address code"), max_length=15, unique=True)
    name = models.CharField(_("name"), max_length=100)
    grid_code = models.CharField(max_length=15, db_index=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("estate")
        verbose_name_plural = _("estates")

    def __str__(self) -> str:
        return self.name


class Building(LedgerRecord):
    """楼栋. Code: estate (15) + building (3). Its location places it in a grid."""

    code = models.CharField(_("address code"), max_length=18, unique=True)
    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="buildings")
    name = models.CharField(_("name"), max_length=50)
    address = models.CharField(_("address"), max_length=200)
    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))
    grid_code = models.CharField(max_length=15, db_index=True)
    floors = models.PositiveSmallIntegerField(_("floors"), default=1)
    units = models.PositiveSmallIntegerField(_("units"), default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("building")
        verbose_name_plural = _("buildings")

    def __str__(self) -> str:
        return self.address


class RoomUse(models.TextChoices):
    OWN = "own", _("Lived in by the owner")
    RENTED = "rented", _("Rented out")
    VACANT = "vacant", _("Vacant")
    BUSINESS = "business", _("Business")


class Room(LedgerRecord):
    """房屋. Code: building (18) + unit (2) + room (4) = 24 digits."""

    code = models.CharField(_("address code"), max_length=24, unique=True)
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="rooms")
    unit = models.PositiveSmallIntegerField(_("unit"))
    number = models.CharField(_("room"), max_length=10)
    floor = models.SmallIntegerField(_("floor"))
    area_m2 = models.FloatField(_("area (m²)"), null=True, blank=True)
    use = models.CharField(_("use"), max_length=10, choices=RoomUse.choices, default=RoomUse.OWN)
    status = models.CharField(_("status"), max_length=20, blank=True, default="")
    grid_code = models.CharField(max_length=15, db_index=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("room")
        verbose_name_plural = _("rooms")

    def __str__(self) -> str:
        return f"{self.building.address}{self.unit}单元{self.number}"


class PopulationType(models.TextChoices):
    REGISTERED = "1", _("Registered resident")
    FLOATING = "2", _("Floating")
    UNSETTLED = "3", _("Not yet registered")
    OVERSEAS = "4", _("Overseas")
    LODGING = "5", _("Lodging")
    OTHER = "9", _("Other")


class CareTag(models.TextChoices):
    ELDERLY_ALONE = "elderly_alone", _("Elderly living alone")
    PREGNANT = "pregnant", _("Pregnant")
    CHRONIC = "chronic", _("Long-term patient")
    DISABLED = "disabled", _("Disabled")
    SUBSISTENCE = "subsistence", _("Minimum living allowance")
    EXTREME_POVERTY = "extreme_poverty", _("Extreme poverty support")
    CHILD = "child", _("Left-behind or vulnerable child")
    ENTITLED = "entitled", _("Entitled group (优抚对象)")
    ELDERLY = "elderly", _("Advanced age (80 and over)")


class SpecialTag(models.TextChoices):
    RELEASED = "released", _("Released prisoner")
    CORRECTION = "correction", _("Community correction")
    MENTAL = "mental", _("Severe mental disorder")
    DRUG = "drug", _("Drug user")
    HIV_RISK = "hiv_risk", _("HIV risk")
    YOUTH = "youth", _("Youth needing attention")


class Household(LedgerRecord):
    """户. `code` is the household number from the register or the import file."""

    code = models.CharField(_("household number"), max_length=32, unique=True)
    grid_code = models.CharField(max_length=15, db_index=True)
    room = models.ForeignKey(Room, null=True, blank=True, on_delete=models.SET_NULL)
    head = models.ForeignKey(
        "Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("household")
        verbose_name_plural = _("households")

    def __str__(self) -> str:
        return self.code


class Person(LedgerRecord):
    """实有人口. The ID number and phone are encrypted; the blind indexes find and de-duplicate."""

    grid_code = models.CharField(max_length=15)
    name = models.CharField(_("name"), max_length=50, db_index=True)
    gender = models.CharField(_("gender"), max_length=8, blank=True)
    ethnicity = models.CharField(_("ethnicity"), max_length=20, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    id_number = EncryptedField(_("ID number"), blank=True)
    # NULL (not "") when there is no ID number: a plain unique index then serves every lookup.
    id_index = models.CharField(max_length=64, null=True, blank=True, unique=True)
    id_checked = models.BooleanField(
        _("ID number passes its check"),
        default=True,
        help_text="False only through a supervised, audited override",
    )
    phone = EncryptedField(_("phone"), blank=True)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True)
    registered_address = models.CharField(_("registered address"), max_length=200, blank=True)
    current_address = models.CharField(_("current address"), max_length=200, blank=True)
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.SET_NULL, related_name="people"
    )
    population_type = models.CharField(
        _("population type"), max_length=1, choices=PopulationType.choices, default="1"
    )
    separated = models.BooleanField(_("registered elsewhere (人户分离)"), default=False)
    move_in = models.DateField(_("moved in"), null=True, blank=True)
    expected_leave = models.DateField(_("expected to leave"), null=True, blank=True)
    employer = models.CharField(_("employer"), max_length=100, blank=True)
    occupation = models.CharField(_("occupation"), max_length=50, blank=True)
    marital_status = models.CharField(_("marital status"), max_length=10, blank=True)
    education = models.CharField(_("education"), max_length=20, blank=True)
    political_status = models.CharField(_("political status"), max_length=20, blank=True)
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    relation = models.CharField(_("relation to the head"), max_length=10, blank=True)
    care_tags = models.CharField(_("care groups"), max_length=200, blank=True)
    # Set when this record was merged into another as a duplicate (see services/merge.py);
    # cleared again when the merge is undone.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["grid_code", "id"]
        indexes = [models.Index(fields=["grid_code", "id"], name="person_grid_idx")]
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self) -> str:
        return self.name

    def care_tag_list(self) -> list[str]:
        return [t for t in self.care_tags.split(",") if t]


class SensitiveTag(ScopedModel):
    """A special-group tag (特殊人群). Stored encrypted, in its own table, readable only with
    `ledger.sensitive`: to other roles the tag does not exist."""

    scope_code_field: ClassVar[str | None] = "grid_code"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="sensitive_tags")
    grid_code = models.CharField(max_length=15, db_index=True)
    tag = EncryptedField()
    tag_index = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "tag_index"], name="sensitive_tag_unique")
        ]

    def __str__(self) -> str:
        return f"{self.person_id}"


class OrganisationKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("Enterprise")
    INDIVIDUAL = "individual", _("Individual business")
    SOCIAL = "social", _("Social organisation")
    PUBLIC = "public", _("Public institution")
    PARTY = "party", _("Party organisation")


class Organisation(LedgerRecord):
    """实有单位."""

    grid_code = models.CharField(max_length=15, db_index=True)
    name = models.CharField(_("name"), max_length=200, db_index=True)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    credit_checked = models.BooleanField(default=True)
    kind = models.CharField(_("type"), max_length=12, choices=OrganisationKind.choices)
    legal_representative = models.CharField(_("legal representative"), max_length=50, blank=True)
    phone = EncryptedField(_("phone"), blank=True)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    room = models.ForeignKey(Room, null=True, blank=True, on_delete=models.SET_NULL)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    key_tags = models.CharField(_("key-place tags"), max_length=200, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["grid_code", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~Q(credit_code=""),
                name="organisation_unique_credit",
            ),
        ]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class ThingState(models.TextChoices):
    GOOD = "good", _("In good order")
    DAMAGED = "damaged", _("Damaged")
    LOST = "lost", _("Lost")
    ABANDONED = "abandoned", _("Abandoned")
    REMOVED = "removed", _("Removed")


class Thing(LedgerRecord):
    """部件 and facilities. Code: area (6) + major (2) + minor (2 or 3) + sequence (6)."""

    # Components are no one's personal data, and departments (城管 above all) maintain them
    # district-wide: a department grant sees the things of its whole region.
    scope_department_sees_all: ClassVar[bool] = True

    code = models.CharField(_("code"), max_length=17, unique=True)
    name = models.CharField(_("name"), max_length=100)
    major = models.CharField(_("major class"), max_length=2)
    minor = models.CharField(_("minor class"), max_length=3)
    responsible_unit = models.CharField(_("responsible unit"), max_length=100, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=ThingState.choices, default="good")
    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))
    grid_code = models.CharField(max_length=15, db_index=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["grid_code", "code"]
        indexes = [models.Index(fields=["major", "minor"], name="thing_class_idx")]
        verbose_name = _("thing")
        verbose_name_plural = _("things")

    def __str__(self) -> str:
        return self.name


class ReferralStatus(models.TextChoices):
    OPEN = "open", _("Waiting for review")
    DONE = "done", _("Resolved")
    REJECTED = "rejected", _("Rejected")


class Referral(ScopedModel):
    """A record sent to the district for review instead of being written: e.g. an ID number a
    grid worker entered that is registered outside their scope. The worker is told only that
    the district will look at it — not where the person is registered, nor that they are."""

    scope_code_field: ClassVar[str | None] = "district_code"

    kind = models.CharField(max_length=16)  # person, organisation
    reason = models.CharField(max_length=32)  # duplicate_elsewhere
    grid_code = models.CharField(max_length=15)  # where the submitter meant the record to go
    district_code = models.CharField(max_length=6, db_index=True)
    existing_id = models.BigIntegerField(null=True, blank=True)
    payload = EncryptedField(blank=True)  # the submitted values (JSON), encrypted
    source = models.CharField(max_length=32, blank=True)  # page, api, import
    status = models.CharField(
        max_length=16, choices=ReferralStatus.choices, default=ReferralStatus.OPEN
    )
    created_by_id = models.BigIntegerField(null=True, blank=True)
    created_by_name = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    resolved_by_name = models.CharField(max_length=150, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["district_code", "status"], name="referral_open_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.reason} {self.status}"

    @property
    def kind_label(self) -> str:
        return str(REFERRAL_KINDS.get(self.kind, self.kind))

    @property
    def source_label(self) -> str:
        return str(REFERRAL_SOURCES.get(self.source, self.source))


# What the referral list says for a referral's kind and source (codes in the table).
REFERRAL_KINDS = {
    "person": pgettext_lazy("referral", "Person"),
    "organisation": pgettext_lazy("referral", "Organisation"),
}
REFERRAL_SOURCES = {
    "page": pgettext_lazy("referral", "Page"),
    "api": pgettext_lazy("referral", "API"),
    "import": pgettext_lazy("referral", "Import"),
}


class MergeKind(models.TextChoices):
    PERSON = "person", pgettext_lazy("merge", "Person")
    ORGANISATION = "organisation", pgettext_lazy("merge", "Organisation")


class RecordMerge(ScopedModel):
    """Two ledger records found to be one: what moved from the merged record to the survivor,
    kept so that the merge can be undone exactly (`services/merge.py`).

    `moves` holds ids and field names only (and, per module above the ledger that registered a
    merge hook, what that hook returned); `conflicts` the names of the fields on which the two
    records disagreed (the survivor's value was kept; the merged record still holds its own).
    No personal value is stored here in plain JSON."""

    scope_code_field: ClassVar[str | None] = "grid_code"

    kind = models.CharField(_("kind"), max_length=16, choices=MergeKind.choices)
    survivor_id = models.BigIntegerField()
    merged_id = models.BigIntegerField(db_index=True)
    grid_code = models.CharField(max_length=15, db_index=True)  # the survivor's, at the merge
    merged_grid_code = models.CharField(max_length=15)
    reason = models.CharField(_("reason"), max_length=500)
    moves = models.JSONField(default=dict, blank=True)
    conflicts = models.JSONField(default=list, blank=True)
    # What undoing needs that is personal (the care groups the survivor gained, household
    # relations): JSON, encrypted.
    sealed = EncryptedField(blank=True)
    created_by_id = models.BigIntegerField(null=True, blank=True)
    created_by_name = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by_id = models.BigIntegerField(null=True, blank=True)
    undone_by_name = models.CharField(max_length=150, blank=True)
    undo_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "survivor_id"], name="record_merge_survivor_idx")]
        verbose_name = _("record merge")
        verbose_name_plural = _("record merges")

    def __str__(self) -> str:
        return f"{self.kind} {self.merged_id} → {self.survivor_id}"

    @property
    def undone(self) -> bool:
        return self.undone_at is not None
