"""The one network: district → street → community → grid, department layers and crosswalks.

Geometry is stored as GeoJSON text and evaluated with shapely/GEOS in the application, so the
same code runs on plain SQLite and plain PostgreSQL (no SpatiaLite/PostGIS to install on a
district's server). Bounding-box columns let the map and the locate index filter cheaply.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wangge.core.models import Department
from wangge.core.roles import Perm
from wangge.core.scope import ScopedModel


class Level(models.TextChoices):
    DISTRICT = "district", _("District")
    STREET = "street", _("Street")
    COMMUNITY = "community", _("Village/community")
    GRID = "grid", _("Grid")


LEVEL_CODE_LENGTH = {Level.DISTRICT: 6, Level.STREET: 9, Level.COMMUNITY: 12, Level.GRID: 15}
CODE_LENGTH_LEVEL = {length: level for level, length in LEVEL_CODE_LENGTH.items()}


def common_region(codes: list[str]) -> str:
    """The narrowest region holding all the codes (grid 15, community 12, street 9, district 6
    digits), or "" when they share no district."""
    if not codes:
        return ""
    prefix = codes[0]
    for code in codes[1:]:
        n = 0
        while n < min(len(prefix), len(code)) and prefix[n] == code[n]:
            n += 1
        prefix = prefix[:n]
    for length in (15, 12, 9, 6):
        if len(prefix) >= length:
            return prefix[:length]
    return ""


CHILD_LEVEL = {
    Level.DISTRICT: Level.STREET,
    Level.STREET: Level.COMMUNITY,
    Level.COMMUNITY: Level.GRID,
}


class GridKind(models.TextChoices):
    BASIC = "basic", _("Basic grid")
    DEDICATED = "dedicated", _("Dedicated grid")


class Region(ScopedModel):
    """A node of the tree. The code is the identity; a restructure closes codes, never reuses."""

    scope_code_field: ClassVar[str | None] = "code"
    # Department officers work district-wide on the same map: they see the regions of their grant.
    scope_department_sees_all: ClassVar[bool] = True

    code = models.CharField(_("code"), max_length=15, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    kind = models.CharField(_("grid kind"), max_length=16, choices=GridKind.choices, blank=True)
    valid_from = models.DateTimeField(_("valid from"))
    valid_to = models.DateTimeField(_("valid to"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(level="grid") & ~Q(kind="")) | (~Q(level="grid") & Q(kind="")),
                name="region_kind_only_for_grids",
            ),
            models.CheckConstraint(
                condition=Q(level="district") | Q(parent__isnull=False),
                name="region_parent_required_below_district",
            ),
        ]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @classmethod
    def scope_public_q(cls, perm: Perm) -> Q | None:
        # Grid names and outlines are posted publicly (滨州 regulation); nothing else is.
        if perm != Perm.REGIONS_PUBLIC_OUTLINE:
            return None
        return Q(valid_to=None)


class Boundary(ScopedModel):
    """One version of a region's boundary. At most one current (valid_to is null) per region."""

    scope_code_field: ClassVar[str | None] = "region__code"
    scope_department_sees_all: ClassVar[bool] = True

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="boundaries")
    geojson = models.TextField(_("boundary (GeoJSON)"))
    area_m2 = models.FloatField(_("area (m²)"))
    min_lon = models.FloatField()
    min_lat = models.FloatField()
    max_lon = models.FloatField()
    max_lat = models.FloatField()
    valid_from = models.DateTimeField(_("valid from"))
    valid_to = models.DateTimeField(_("valid to"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=200, blank=True)

    class Meta:
        ordering = ["region_id", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["region"], condition=Q(valid_to=None), name="boundary_one_current"
            ),
        ]
        indexes = [models.Index(fields=["valid_to", "region"], name="boundary_current_idx")]
        verbose_name = _("boundary")
        verbose_name_plural = _("boundaries")

    def __str__(self) -> str:
        return f"{self.region_id} {self.valid_from:%Y-%m-%d}"

    @classmethod
    def scope_public_q(cls, perm: Perm) -> Q | None:
        if perm != Perm.REGIONS_PUBLIC_OUTLINE:
            return None
        return Q(valid_to=None, region__level=Level.GRID, region__valid_to=None)


class Layer(models.Model):
    """A department's own legacy grid layer (党建, 城管 …), kept beside the unified grids."""

    scope_exempt: ClassVar[str] = (
        "a layer's name and department only; its grids (DepartmentGrid) are scoped"
    )

    slug = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="layers"
    )

    class Meta:
        ordering = ["slug"]
        verbose_name = _("department layer")
        verbose_name_plural = _("department layers")

    def __str__(self) -> str:
        return self.name


class DepartmentGrid(ScopedModel):
    """A grid of a department layer. `region_code` is the unified grid holding most of it."""

    scope_code_field: ClassVar[str | None] = "region_code"
    scope_department_sees_all: ClassVar[bool] = True

    layer = models.ForeignKey(Layer, on_delete=models.PROTECT, related_name="grids")
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100, blank=True)
    region_code = models.CharField(max_length=15, db_index=True, blank=True)
    geojson = models.TextField()
    area_m2 = models.FloatField()
    min_lon = models.FloatField()
    min_lat = models.FloatField()
    max_lon = models.FloatField()
    max_lat = models.FloatField()
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["layer_id", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["layer", "code"], condition=Q(valid_to=None), name="dept_grid_one_current"
            ),
        ]
        verbose_name = _("department grid")
        verbose_name_plural = _("department grids")

    def __str__(self) -> str:
        return f"{self.layer.name} {self.code}"


class Crosswalk(ScopedModel):
    """How much of a department grid lies in each unified grid (shares of its area)."""

    scope_code_field: ClassVar[str | None] = "grid__code"
    scope_department_sees_all: ClassVar[bool] = True

    department_grid = models.ForeignKey(
        DepartmentGrid, on_delete=models.CASCADE, related_name="crosswalk"
    )
    grid = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="crosswalk")
    area_m2 = models.FloatField()
    share = models.FloatField(help_text="area in this grid / area of the department grid")

    class Meta:
        ordering = ["department_grid_id", "-share"]
        constraints = [
            models.UniqueConstraint(fields=["department_grid", "grid"], name="crosswalk_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.department_grid_id}→{self.grid_id} {self.share:.2%}"


class BoundaryRevision(models.Model):
    """A counter bumped whenever current boundaries change; the locate index compares it."""

    scope_exempt: ClassVar[str] = "a counter, no region data"

    key = models.CharField(max_length=16, unique=True, default="grids")
    revision = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}@{self.revision}"


class Operation(models.TextChoices):
    MOVE = "move", _("Move to another community")
    SPLIT = "split", _("Split")
    MERGE = "merge", _("Merge")
    RECODE = "recode", _("Recode or rename")


class Succession(ScopedModel):
    """One line of the crosswalk a restructure leaves: the old code, the code that took (part of)
    its place from `at`, the share of the old grid's area now in the new one, and both names.
    A rename is a succession from a code to itself. History is read from these rows."""

    scope_code_field: ClassVar[str | None] = "old_code"
    scope_department_sees_all: ClassVar[bool] = True

    batch = models.CharField(max_length=32, db_index=True)  # one restructure
    operation = models.CharField(_("operation"), max_length=8, choices=Operation.choices)
    old_code = models.CharField(_("old code"), max_length=15, db_index=True)
    old_name = models.CharField(_("old name"), max_length=100)
    new_code = models.CharField(_("new code"), max_length=15, db_index=True)
    new_name = models.CharField(_("new name"), max_length=100)
    share = models.FloatField(help_text="area of the old grid in the new one / area of the old")
    at = models.DateTimeField(_("effective from"))

    class Meta:
        ordering = ["at", "old_code", "new_code"]
        verbose_name = _("succession")
        verbose_name_plural = _("successions")

    def __str__(self) -> str:
        return f"{self.old_code}→{self.new_code} {self.at:%Y-%m-%d}"
