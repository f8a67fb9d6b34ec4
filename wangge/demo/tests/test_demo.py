from __future__ import annotations

import pytest

from wangge.core.models import User
from wangge.demo.builder import DEMO_USERS
from wangge.regions.models import Layer, Region

pytestmark = pytest.mark.django_db


def test_demo_district_shape() -> None:
    regions = Region.objects.dangerously_unscoped().filter(valid_to=None)
    assert regions.filter(level="district").get().name == "江海区"
    streets = list(regions.filter(level="street").values_list("name", flat=True))
    assert sorted(streets) == sorted(["江南街道", "外海街道", "礼乐街道"])
    assert regions.filter(level="grid").count() == 190
    lile = regions.get(name="礼乐街道")
    assert {"英南村", "南村"} <= set(regions.filter(parent=lile).values_list("name", flat=True))


def test_six_demo_users_with_their_grants() -> None:
    for spec in DEMO_USERS:
        user = User.objects.get(username=spec.username)
        grant = user.grants.get()
        assert (grant.role, grant.region_code) == (spec.role, spec.region)
    assert len(DEMO_USERS) == 6
    department = User.objects.get(username="demo-dept").grants.get().department
    assert department is not None and department.code == "chengguan"


def test_department_layers_exist_and_differ() -> None:
    from wangge.regions.models import DepartmentGrid

    assert Layer.objects.count() == 8
    counts = {
        layer.slug: DepartmentGrid.objects.dangerously_unscoped().filter(layer=layer).count()
        for layer in Layer.objects.all()
    }
    assert all(n > 0 for n in counts.values())
    assert any(n != 190 for n in counts.values())
