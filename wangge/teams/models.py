"""Grid teams (网格小组), their members over time, and party organisation per grid."""

from __future__ import annotations

from typing import Any, ClassVar, Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wangge.core.crypto import EncryptedField
from wangge.core.models import Department
from wangge.core.roles import Perm
from wangge.core.scope import ScopedModel, ScopedQuerySet, as_scope


class Gender(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class PoliticalStatus(models.TextChoices):
    PARTY_MEMBER = "party_member", _("Communist Party member")
    PROBATIONARY = "probationary", _("Probationary party member")
    LEAGUE_MEMBER = "league_member", _("Youth League member")
    OTHER_PARTY = "other_party", _("Member of another party")
    MASSES = "masses", _("Masses")


class TeamRole(models.TextChoices):
    LEADER = "leader", _("Grid leader")
    FULL_TIME = "full_time", _("Full-time grid worker")
    SPECIALIST = "specialist", _("Specialist grid worker")
    PART_TIME = "part_time", _("Part-time grid worker")


class Team(ScopedModel):
    """The one grid team of a grid."""

    scope_code_field: ClassVar[str | None] = "grid_code"

    grid_code = models.CharField(_("grid code"), max_length=15, unique=True)
    name = models.CharField(_("name"), max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["grid_code"]
        verbose_name = _("grid team")
        verbose_name_plural = _("grid teams")

    def __str__(self) -> str:
        return self.name


class StaffQuerySet(ScopedQuerySet):
    def visible_to(self, actor: Any, perm: Perm) -> Self:
        """Registered in scope, or serving (now) in a grid in scope."""
        scope = as_scope(actor)
        rows = scope.q(perm, model=self.model)
        # An empty Q is every row (the system); OR-ing into it would drop it and keep only the
        # serving people.
        if rows:
            serving = Assignment.objects.visible_to(scope, perm).filter(valid_to=None)
            rows |= Q(pk__in=serving.values("staff_id"))
        qs = self.filter(rows)
        qs._scope_token = (scope.token, perm)
        return qs


class StaffManager(models.Manager.from_queryset(StaffQuerySet)):  # type: ignore[misc]
    """Scoped like every ScopedModel manager, with the staff visibility rule."""


class StaffMember(ScopedModel):
    """A person who works in grids. Phone and ID number are encrypted, found by blind index."""

    scope_code_field: ClassVar[str | None] = "region_code"
    # A department grant sees the staff its department sent (specialists), not the registry.
    scope_department_field: ClassVar[str | None] = "department__code"

    name = models.CharField(_("name"), max_length=50)
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices, blank=True)
    phone = EncryptedField(_("phone"), blank=True)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True)
    id_number = EncryptedField(_("ID number"), blank=True)
    id_index = models.CharField(max_length=64, blank=True, db_index=True)
    political_status = models.CharField(
        _("political status"), max_length=16, choices=PoliticalStatus.choices, blank=True
    )
    employer = models.CharField(_("employer"), max_length=100, blank=True)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff_member",
    )
    region_code = models.CharField(_("registered in"), max_length=15, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StaffManager()  # type: ignore[misc]

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["id_index"], condition=~Q(id_index=""), name="staff_unique_id_number"
            ),
        ]
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")

    def __str__(self) -> str:
        return self.name

    def scope_codes(self) -> list[str]:
        serving = Assignment.objects.dangerously_unscoped().filter(staff=self, valid_to=None)
        return [self.region_code, *serving.values_list("grid_code", flat=True)]


class Assignment(ScopedModel):
    """A person's role in a grid team from `valid_from` until `valid_to` (exclusive; null = now).

    Never updated in place except to close it: a change of team closes one row and opens another,
    so the team on any past date can be read back.
    """

    scope_code_field: ClassVar[str | None] = "grid_code"
    scope_department_field: ClassVar[str | None] = "department__code"

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="assignments")
    grid_code = models.CharField(max_length=15, db_index=True)
    staff = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="assignments")
    role = models.CharField(_("role"), max_length=16, choices=TeamRole.choices)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="assignments"
    )
    valid_from = models.DateField(_("from"))
    valid_to = models.DateField(_("until"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["grid_code", "role", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["grid_code"],
                condition=Q(role="leader", valid_to=None),
                name="assignment_one_current_leader",
            ),
            models.UniqueConstraint(
                fields=["staff", "grid_code", "role"],
                condition=Q(valid_to=None),
                name="assignment_unique_current",
            ),
            models.CheckConstraint(
                condition=~Q(role="specialist") | Q(department__isnull=False),
                name="assignment_specialist_has_department",
            ),
            models.CheckConstraint(
                condition=Q(valid_to=None) | Q(valid_to__gt=models.F("valid_from")),
                name="assignment_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["grid_code", "valid_to"], name="assignment_current_idx")]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")

    def __str__(self) -> str:
        return f"{self.grid_code} {self.role} {self.staff_id}"


class PartyOrgKind(models.TextChoices):
    BRANCH = "branch", _("Party branch")
    GROUP = "group", _("Party group")


class PartyOrganisation(ScopedModel):
    """The party branch (党支部) or party group (党小组) of a grid."""

    scope_code_field: ClassVar[str | None] = "grid_code"

    grid_code = models.CharField(max_length=15, unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=PartyOrgKind.choices)
    name = models.CharField(_("name"), max_length=100)
    secretary = models.ForeignKey(
        StaffMember,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="party_organisations",
        verbose_name=_("secretary or group leader"),
    )
    parent_name = models.CharField(_("parent organisation"), max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["grid_code"]
        verbose_name = _("party organisation")
        verbose_name_plural = _("party organisations")

    def __str__(self) -> str:
        return self.name


class PartyMemberCategory(models.TextChoices):
    DUAL_REGISTRATION = "dual_registration", _("In-service member (dual registration)")
    RETIRED_CADRE = "retired_cadre", _("Retired cadre")
    VETERAN = "veteran", _("Veteran")
    PROPERTY_COMPANY = "property_company", _("Property-management company member")
    RESIDENT = "resident", _("Member living in the estate")
    OTHER = "other", _("Other")


class PartyMember(ScopedModel):
    """A party member registered into a grid (报到)."""

    scope_code_field: ClassVar[str | None] = "grid_code"

    grid_code = models.CharField(max_length=15, db_index=True)
    organisation = models.ForeignKey(
        PartyOrganisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    name = models.CharField(_("name"), max_length=50)
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices, blank=True)
    phone = EncryptedField(_("phone"), blank=True)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True)
    category = models.CharField(_("category"), max_length=24, choices=PartyMemberCategory.choices)
    home_organisation = models.CharField(_("home party organisation"), max_length=100, blank=True)
    formal = models.BooleanField(_("formal member"), default=True)
    registered_on = models.DateField(_("registered on"))
    staff = models.ForeignKey(
        StaffMember, null=True, blank=True, on_delete=models.SET_NULL, related_name="party_member"
    )

    class Meta:
        ordering = ["grid_code", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["grid_code", "name", "phone_index"], name="party_member_unique"
            ),
        ]
        verbose_name = _("party member")
        verbose_name_plural = _("party members")

    def __str__(self) -> str:
        return self.name
