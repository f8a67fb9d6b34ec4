"""Scope: the one mechanism through which every read of scoped data passes.

A grant is a role over a region code. Region codes are hierarchical (district 6 digits, street
9, community 12, grid 15), so "inside the scope" is a prefix test, run as an index range
`code >= prefix AND code < prefix + ':'` (':' sorts right after '9').

Models that hold scoped data inherit `ScopedModel`; their querysets refuse to run until they are
narrowed with `.visible_to(actor, perm)` or explicitly opened with `.dangerously_unscoped()`
(for the system: migrations, importers, the worker). Forgetting the scope is an exception, not
a leak (the lesson of CommCare's location-safe views). Combining two querysets (`|`, `&`, `^`,
`union`, …) keeps that promise: both sides must carry the same scope.

Three kinds of actor:

- a user: the grants they hold (`scope_for(user)`);
- the public (a resident on the public pages, an Open311 client): no grants, only the public
  permissions named when the scope is made (`Scope.public(...)`), and only the rows a model marks
  as public (`ScopedModel.scope_public_q`);
- the system (migrations, the worker, the CLI, the demo builder): everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Self

from django.db import models
from django.db.models import Q

from wangge.core.errors import NotFound, PermissionDenied
from wangge.core.roles import PUBLIC_PERMS, ROLE_PERMISSIONS, Perm, Role

if TYPE_CHECKING:
    from wangge.core.models import User


class ScopeNotApplied(RuntimeError):
    """A scoped queryset was evaluated (or combined) without a scope on every side."""


@dataclass(frozen=True)
class ScopeGrant:
    role: Role
    region_code: str
    department: str | None  # Department.code


@dataclass(frozen=True)
class Scope:
    """What one actor may see and do. Built once per request from the user's grants."""

    user_id: int | None
    username: str
    grants: tuple[ScopeGrant, ...]
    is_system: bool = False
    public_perms: frozenset[Perm] = field(default_factory=frozenset)

    @classmethod
    def system(cls, name: str = "system") -> Scope:
        return cls(user_id=None, username=name, grants=(), is_system=True)

    @classmethod
    def public(cls, name: str, perms: Iterable[Perm]) -> Scope:
        """A caller from outside the administration: it may do exactly `perms` (all of them
        public permissions) and nothing a grant gives."""
        wanted = frozenset(perms)
        if not wanted <= PUBLIC_PERMS:
            raise ValueError(f"not public permissions: {sorted(wanted - PUBLIC_PERMS)}")
        return cls(user_id=None, username=name, grants=(), public_perms=wanted)

    @property
    def is_public(self) -> bool:
        return bool(self.public_perms)

    def grants_for(self, perm: Perm) -> list[ScopeGrant]:
        return [g for g in self.grants if perm in ROLE_PERMISSIONS[g.role]]

    def has(self, perm: Perm) -> bool:
        """Whether the actor holds `perm` anywhere (what a menu may offer). A decision about one
        object is `holds(perm, code)`."""
        if self.is_system:
            return True
        if perm in PUBLIC_PERMS:
            return perm in self.public_perms
        return bool(self.grants_for(perm))

    def holds(self, perm: Perm, code: str, department: str | None = None) -> bool:
        """Whether a grant holding `perm` covers the object at region `code`.

        `department` is the object's department, for objects that a department-narrowed grant
        may act on only when it is theirs (events); pass None where a department grant acts on
        region alone. This is the check for one object: the grant that covers the object decides,
        not some other grant the user holds elsewhere.
        """
        if self.is_system:
            return True
        for grant in self.grants_for(perm):
            if not code.startswith(grant.region_code):
                continue
            if department is not None and grant.department and grant.department != department:
                continue
            return True
        return False

    def holds_for(self, perm: Perm, obj: ScopedModel) -> bool:
        """`holds` for one row of a scoped model: its region and department decide."""
        return self.holds(perm, obj.scope_code(), obj.scope_department())

    def covers(self, code: str, perm: Perm) -> bool:
        """Whether `code` lies inside a grant holding `perm` (department ignored)."""
        return self.holds(perm, code)

    def require_for(self, perm: Perm, obj: ScopedModel, message: Any = None) -> None:
        """`holds_for(...)` or PermissionDenied: for an object the actor can already see."""
        if not self.holds_for(perm, obj):
            raise PermissionDenied(message)

    def roots(self, perm: Perm) -> list[str]:
        """The topmost region codes this actor sees, without codes nested in another."""
        codes = sorted({g.region_code for g in self.grants_for(perm)})
        roots: list[str] = []
        for code in codes:
            if not any(code.startswith(root) for root in roots):
                roots.append(code)
        return roots

    def q(self, perm: Perm, *, model: Any) -> Q:
        """A filter that keeps the rows of `model` this actor may see with `perm`.

        - region: the row's `scope_code_field` lies inside a grant holding `perm`;
        - department: a grant narrowed to a department sees only rows of its department where
          the model names one (`scope_department_field`), the whole region where the model says
          department grants see it all (`scope_department_sees_all`), and nothing otherwise;
        - owner: models owned by a user (`scope_owner_field`) show only the actor's own rows;
        - public: the public sees only `scope_public_q()` rows, and only with a public permission.
        """
        if self.is_system:
            return Q()
        nothing = Q(pk__in=[])  # fail closed: no grant, no rows
        owner = getattr(model, "scope_owner_field", None)
        if self.is_public or perm in PUBLIC_PERMS:
            public = model.scope_public_q(perm)
            if perm not in self.public_perms or public is None:
                return nothing
            return public
        if owner and self.user_id is None:
            return nothing
        code_field = getattr(model, "scope_code_field", None)
        if code_field is None:
            # Owned rows (a user's notifications, jobs): the owner sees them, whatever the perm.
            result = Q() if owner else nothing
        else:
            dept_field = getattr(model, "scope_department_field", None)
            sees_all = getattr(model, "scope_department_sees_all", False)
            result = nothing
            for grant in self.grants_for(perm):
                part = Q(**{f"{code_field}__gte": grant.region_code}) & Q(
                    **{f"{code_field}__lt": grant.region_code + ":"}
                )
                if grant.department:
                    if dept_field:
                        part &= Q(**{dept_field: grant.department})
                    elif not sees_all:
                        continue
                result |= part
        if owner:
            result &= Q(**{owner: self.user_id})
        return result

    @property
    def token(self) -> tuple[Any, ...]:
        """Identifies this scope on a queryset (two querysets combine only with equal tokens)."""
        return (self.user_id, self.username, self.grants, self.is_system, self.public_perms)


ANONYMOUS = Scope(user_id=None, username="anonymous", grants=())


def scope_for(user: User | Any) -> Scope:
    """The scope of a logged-in user (cached on the user object for the request)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return ANONYMOUS
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


def require_any(actor: Any, *perms: Perm) -> Scope:
    """The actor's scope if it holds one of `perms` anywhere; otherwise NotFound.

    For selectors and services whose whole subject does not exist for an actor without the
    permission (a list page, a menu): to them the module is "not found", never "forbidden".
    """
    scope = as_scope(actor)
    if not any(scope.has(p) for p in perms):
        raise NotFound()
    return scope


def as_scope(actor: Any) -> Scope:
    return actor if isinstance(actor, Scope) else scope_for(actor)


_UNSCOPED = ("unscoped",)
_EMPTY = ("empty",)


class ScopedQuerySet(models.QuerySet):
    """A queryset that will not run until a scope has been applied to it."""

    # None: no scope yet; _UNSCOPED: opened for the system; _EMPTY: .none(); otherwise
    # (scope token, perm).
    _scope_token: tuple[Any, ...] | None = None

    def _clone(self) -> Self:
        clone = super()._clone()  # type: ignore[misc]
        clone._scope_token = self._scope_token
        return clone

    @property
    def _scope_applied(self) -> bool:
        return self._scope_token is not None

    def visible_to(self, actor: Any, perm: Perm) -> Self:
        scope = as_scope(actor)
        qs = self.filter(scope.q(perm, model=self.model))
        qs._scope_token = (scope.token, perm)
        return qs

    def dangerously_unscoped(self) -> Self:
        """For the system only (migrations, importers, the worker, checks): no scope filter."""
        qs = self._chain()  # type: ignore[attr-defined]
        qs._scope_token = _UNSCOPED
        return qs

    def none(self) -> Self:
        # An empty set shows nothing, whatever its scope: evaluating it is always safe.
        qs = super().none()
        qs._scope_token = _EMPTY
        return qs

    def _require_scope(self) -> None:
        if self._scope_token is None:
            raise ScopeNotApplied(
                f"{self.model.__name__} queryset used without .visible_to() or "
                ".dangerously_unscoped()"
            )

    def _combined_token(self, others: Iterable[Any], *, narrowing: bool = False) -> tuple[Any, ...]:
        """Every side of a combination carries a scope, or the combination is refused:
        `visible_to(a) | Model.objects.filter(...)` would otherwise return rows outside `a`.
        A union (`|`, `^`, `union`) needs the same scope on every side; an intersection or a
        difference (`&`, `intersection`, `difference`) only narrows the first side, whose scope
        the result keeps."""
        tokens = [self._scope_token]
        for other in others:
            if not isinstance(other, ScopedQuerySet):
                raise ScopeNotApplied(
                    f"{self.model.__name__}: a scoped queryset combined with an unscoped one"
                )
            tokens.append(other._scope_token)
        if any(t is None for t in tokens):
            raise ScopeNotApplied(
                f"{self.model.__name__}: querysets combined without a scope on every side"
            )
        if narrowing:
            first = tokens[0]
            assert first is not None
            return first
        real = {t for t in tokens if t is not None and t != _EMPTY}
        if len(real) > 1:
            raise ScopeNotApplied(f"{self.model.__name__}: querysets of different scopes combined")
        return real.pop() if real else _EMPTY

    def __and__(self, other: Any) -> Self:
        token = self._combined_token([other], narrowing=True)
        combined = super().__and__(other)
        combined._scope_token = token
        return combined

    def __or__(self, other: Any) -> Self:
        token = self._combined_token([other])
        combined = super().__or__(other)
        combined._scope_token = token
        return combined

    def __xor__(self, other: Any) -> Self:
        token = self._combined_token([other])
        combined = super().__xor__(other)
        combined._scope_token = token
        return combined

    def union(self, *other_qs: Any, all: bool = False) -> Self:
        token = self._combined_token(other_qs)
        combined = super().union(*other_qs, all=all)
        combined._scope_token = token
        return combined

    def intersection(self, *other_qs: Any) -> Self:
        token = self._combined_token(other_qs, narrowing=True)
        combined = super().intersection(*other_qs)
        combined._scope_token = token
        return combined

    def difference(self, *other_qs: Any) -> Self:
        token = self._combined_token(other_qs, narrowing=True)
        combined = super().difference(*other_qs)
        combined._scope_token = token
        return combined

    def raw(self, *args: Any, **kwargs: Any) -> Any:
        # Raw SQL cannot be narrowed by a scope: only the system may run it.
        if self._scope_token != _UNSCOPED:
            raise ScopeNotApplied(
                f"{self.model.__name__}: raw SQL only through .dangerously_unscoped()"
            )
        return super().raw(*args, **kwargs)

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
    """Base for models whose rows belong to a place (or to a user). Subclasses name the fields
    the scope filters on; see `Scope.q`."""

    scope_code_field: ClassVar[str | None] = "grid_code"
    scope_department_field: ClassVar[str | None] = None
    # Department-narrowed grants see rows without a department only where this says so.
    scope_department_sees_all: ClassVar[bool] = False
    # Rows that belong to one user (notifications, jobs): only that user sees them.
    scope_owner_field: ClassVar[str | None] = None

    objects = ScopedManager()

    class Meta:
        abstract = True

    @classmethod
    def scope_public_q(cls, perm: Perm) -> Q | None:
        """The rows the public may see with the public permission `perm`; None: none."""
        return None

    def scope_code(self) -> str:
        """The region code the scope filters this row on (following `a__b` paths)."""
        return str(_follow(self, self.scope_code_field) or "")

    def scope_codes(self) -> list[str]:
        """Every region the row belongs to (a staff member: where registered and where serving);
        a grant covering any of them covers the row."""
        return [self.scope_code()]

    def scope_department(self) -> str | None:
        """The department a department-narrowed grant must match to act on this row: the
        row's department where the model has one, None (region alone) where department grants
        see it all, and an impossible value otherwise (department grants never match)."""
        if self.scope_department_field:
            return str(_follow(self, self.scope_department_field) or "")
        return None if self.scope_department_sees_all else "\x00"


def _follow(obj: Any, path: str | None) -> Any:
    for part in (path or "").split("__"):
        if obj is None or not part:
            return obj
        obj = getattr(obj, part)
    return obj


def access(qs: ScopedQuerySet, actor: Any, perm: Perm, **lookup: Any) -> Any:
    """One row the actor may see, or NotFound — the same for missing and out of scope."""
    try:
        return qs.visible_to(actor, perm).get(**lookup)
    except (qs.model.DoesNotExist, qs.model.MultipleObjectsReturned, ValueError, TypeError):
        raise NotFound() from None


def codes_in_scope(codes: Iterable[str], actor: Any, perm: Perm) -> list[str]:
    scope = as_scope(actor)
    return [code for code in codes if scope.holds(perm, code)]


def scope_requiring(user: Any, perm: Perm) -> Scope:
    """Transitional: adapters still call this; it moves into the selectors."""
    return require_any(user, perm)
