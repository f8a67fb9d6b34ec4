"""Scope: the one mechanism through which every read of scoped data passes.

A grant is a role over a region code. Region codes are hierarchical (district 6 digits, street
9, community 12, grid 15), so "inside the scope" is a prefix test, run as an index range
`code >= prefix AND code < prefix + ':'` (':' sorts right after '9').

Models that hold scoped data use `ScopedManager`; their querysets refuse to run until they are
narrowed with `.visible_to(actor, perm)` or explicitly opened with `.dangerously_unscoped()`
(for the system: migrations, importers, the worker). Forgetting the scope is an exception, not
a leak (the lesson of CommCare's location-safe views).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

from django.db import models
from django.db.models import Q

from wangge.core.errors import NotFound
from wangge.core.roles import ROLE_PERMISSIONS, Perm, Role

if TYPE_CHECKING:
    from wangge.core.models import User


class ScopeNotApplied(RuntimeError):
    """A scoped queryset was evaluated without `.visible_to()` or `.dangerously_unscoped()`."""


@dataclass(frozen=True)
class ScopeGrant:
    role: Role
    region_code: str
    department: str | None  # Department.code


@dataclass(frozen=True)
class Scope:
    """What one actor may see. Built once per request from the user's grants."""

    user_id: int | None
    username: str
    grants: tuple[ScopeGrant, ...]
    is_system: bool = False

    @classmethod
    def system(cls, name: str = "system") -> Scope:
        return cls(user_id=None, username=name, grants=(), is_system=True)

    def grants_for(self, perm: Perm) -> list[ScopeGrant]:
        return [g for g in self.grants if perm in ROLE_PERMISSIONS[g.role]]

    def has(self, perm: Perm) -> bool:
        return self.is_system or bool(self.grants_for(perm))

    def covers(self, code: str, perm: Perm) -> bool:
        """Whether `code` lies inside a grant holding `perm` (department ignored)."""
        return self.is_system or any(code.startswith(g.region_code) for g in self.grants_for(perm))

    def roots(self, perm: Perm) -> list[str]:
        """The topmost region codes this actor sees, without codes nested in another."""
        codes = sorted({g.region_code for g in self.grants_for(perm)})
        roots: list[str] = []
        for code in codes:
            if not any(code.startswith(root) for root in roots):
                roots.append(code)
        return roots

    def q(self, perm: Perm, *, code_field: str, department_field: str | None = None) -> Q:
        """A filter that keeps rows whose `code_field` lies inside a grant holding `perm`.

        When `department_field` is given, a grant narrowed to a department also requires the
        row's department to match; otherwise department grants act on region alone.
        """
        if self.is_system:
            return Q()
        result = Q(pk__in=[])  # fail closed: no grant, no rows
        for grant in self.grants_for(perm):
            part = Q(**{f"{code_field}__gte": grant.region_code}) & Q(
                **{f"{code_field}__lt": grant.region_code + ":"}
            )
            if department_field and grant.department:
                part &= Q(**{department_field: grant.department})
            result |= part
        return result


def scope_for(user: User | Any) -> Scope:
    """The scope of a logged-in user (cached on the user object for the request)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope(user_id=None, username="anonymous", grants=())
    cached = getattr(user, "_wangge_scope", None)
    if cached is not None:
        return cached
    grants = tuple(
        ScopeGrant(role=Role(role), region_code=code, department=dept)
        for role, code, dept in user.grants.values_list("role", "region_code", "department__code")
    )
    scope = Scope(user_id=user.pk, username=user.get_username(), grants=grants)
    setattr(user, "_wangge_scope", scope)  # noqa: B010 - a per-request cache on the user
    return scope


Actor = Scope


def scope_requiring(user: Any, perm: Perm) -> Scope:
    """The user's scope if it holds `perm` anywhere; otherwise NotFound (pages and API)."""
    scope = scope_for(user)
    if not scope.has(perm):
        raise NotFound()
    return scope


def as_scope(actor: Any) -> Scope:
    return actor if isinstance(actor, Scope) else scope_for(actor)


class ScopedQuerySet(models.QuerySet):
    """A queryset that will not run until a scope has been applied to it."""

    _scope_applied: bool = False

    def _clone(self) -> Self:
        clone = super()._clone()  # type: ignore[misc]
        clone._scope_applied = self._scope_applied
        return clone

    def visible_to(self, actor: Any, perm: Perm) -> Self:
        scope = as_scope(actor)
        model: Any = self.model
        qs = self.filter(
            scope.q(
                perm,
                code_field=model.scope_code_field,
                department_field=getattr(model, "scope_department_field", None),
            )
        )
        qs._scope_applied = True
        return qs

    def dangerously_unscoped(self) -> Self:
        """For the system only (migrations, importers, the worker, checks): no scope filter."""
        qs = self._chain()  # type: ignore[attr-defined]
        qs._scope_applied = True
        return qs

    def _require_scope(self) -> None:
        if not self._scope_applied:
            raise ScopeNotApplied(
                f"{self.model.__name__} queryset used without .visible_to() or "
                ".dangerously_unscoped()"
            )

    def _fetch_all(self) -> None:
        if self._result_cache is None:
            self._require_scope()
        super()._fetch_all()

    def count(self) -> int:
        self._require_scope()
        return super().count()

    def exists(self) -> bool:
        self._require_scope()
        return super().exists()

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self._require_scope()
        return super().aggregate(*args, **kwargs)

    def iterator(self, chunk_size: int | None = None) -> Any:
        self._require_scope()
        return super().iterator(chunk_size=chunk_size)

    def update(self, **kwargs: Any) -> int:
        self._require_scope()
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        self._require_scope()
        return super().delete()


class ScopedManager(models.Manager.from_queryset(ScopedQuerySet)):  # type: ignore[misc]
    """Default manager of scoped models. Related-object access uses `_base_manager` (plain)."""


class ScopedModel(models.Model):
    """Base for models whose rows belong to a place. Subclasses name the code field."""

    scope_code_field: ClassVar[str] = "grid_code"
    scope_department_field: ClassVar[str | None] = None

    objects = ScopedManager()

    class Meta:
        abstract = True


def access(qs: ScopedQuerySet, actor: Any, perm: Perm, **lookup: Any) -> Any:
    """One row the actor may see, or NotFound — the same for missing and out of scope."""
    try:
        return qs.visible_to(actor, perm).get(**lookup)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def codes_in_scope(codes: Iterable[str], actor: Any, perm: Perm) -> list[str]:
    scope = as_scope(actor)
    return [code for code in codes if scope.covers(code, perm)]
