from __future__ import annotations

from typing import Any

import pytest

from tests import world
from wangge.core.errors import NotFound
from wangge.core.roles import Perm, Role
from wangge.core.scope import Scope, ScopeGrant, ScopeNotApplied, access
from wangge.regions.models import Region

pytestmark = pytest.mark.django_db


def _scope(*grants: tuple[Role, str]) -> Scope:
    return Scope(user_id=1, username="t", grants=tuple(ScopeGrant(r, c, None) for r, c in grants))


def test_unscoped_queryset_refuses_to_run() -> None:
    with pytest.raises(ScopeNotApplied):
        list(Region.objects.all())
    with pytest.raises(ScopeNotApplied):
        Region.objects.filter(level="grid").count()
    with pytest.raises(ScopeNotApplied):
        Region.objects.exists()
    with pytest.raises(ScopeNotApplied):
        Region.objects.get(code="440704")


def test_prefix_scope_is_exact() -> None:
    street = _scope((Role.STREET_OFFICER, "440704003"))
    codes = set(Region.objects.visible_to(street, Perm.REGIONS_VIEW).values_list("code", flat=True))
    assert "440704003" in codes
    assert all(code.startswith("440704003") for code in codes)
    assert "440704" not in codes  # the parent is not inside the scope
    assert len([c for c in codes if len(c) == 15]) > 0


def test_two_grids_for_one_worker() -> None:
    worker = _scope((Role.GRID_WORKER, "440704003001001"), (Role.GRID_WORKER, "440704001001002"))
    codes = list(
        Region.objects.visible_to(worker, Perm.REGIONS_VIEW).values_list("code", flat=True)
    )
    assert sorted(codes) == ["440704001001002", "440704003001001"]


def test_no_grant_fails_closed() -> None:
    assert Region.objects.visible_to(_scope(), Perm.REGIONS_VIEW).count() == 0
    # A grant without the permission counts as no grant.
    grid_worker = _scope((Role.GRID_WORKER, "440704"))
    assert Region.objects.visible_to(grid_worker, Perm.REGIONS_MANAGE).count() == 0


def test_access_raises_the_same_for_missing_and_out_of_scope() -> None:
    street = _scope((Role.STREET_OFFICER, "440704003"))
    with pytest.raises(NotFound) as out:
        access(Region.objects, street, Perm.REGIONS_VIEW, code="440704001001001")
    with pytest.raises(NotFound) as missing:
        access(Region.objects, street, Perm.REGIONS_VIEW, code="440704003999999")
    assert str(out.value) == str(missing.value)
    assert access(Region.objects, street, Perm.REGIONS_VIEW, code="440704003001001").level == "grid"


def test_roots_drop_nested_grants() -> None:
    scope = _scope(
        (Role.STREET_OFFICER, "440704003"),
        (Role.GRID_WORKER, "440704003001001"),
        (Role.GRID_WORKER, "440704001001001"),
    )
    assert scope.roots(Perm.REGIONS_VIEW) == ["440704001001001", "440704003"]


def test_system_scope_sees_all() -> None:
    assert Region.objects.visible_to(Scope.system(), Perm.REGIONS_VIEW).filter(
        level="grid", valid_to=None
    ).count() == len(world.grid_codes())


def test_user_scope_from_grants(user: Any) -> None:
    from wangge.core.scope import scope_for

    scope = scope_for(user("demo-dept"))
    assert scope.grants == (ScopeGrant(Role.DEPARTMENT_OFFICER, "440704", "chengguan"),)
    assert scope_for(None).grants == ()
