"""Authorisation matrix for every regions page and endpoint: anonymous, out of scope,
in scope without the role, in scope with it. Out of scope is 404, exactly like missing."""

from __future__ import annotations

from typing import Any

import pytest

from wangge.core.models import User
from wangge.regions.models import Region

pytestmark = pytest.mark.django_db

LILE_GRID = "440704003001001"  # 礼乐街道 英南村 grid 1
JIANGNAN_GRID = "440704001001001"  # 江南街道
LILE = "440704003"
JIANGNAN = "440704001"
MISSING = "440704009009009"


@pytest.fixture
def nobody(db: Any) -> User:
    """A user with no grant at all: logged in, but in scope of nothing."""
    return User.objects.create_user(username="nobody", password="x-unused-password-1")


PAGES_IN_SCOPE = [
    "/regions/",
    "/regions/map/",
    "/regions/layers/",
    "/regions/layers/chengguan/",
    f"/regions/{LILE_GRID}/",
    f"/regions/{LILE}/",
    f"/regions/{LILE}/children/",
    "/?start=1",  # officers start on the dashboard; ?start=1 is the page of scope and counts
]


@pytest.mark.parametrize("url", [*PAGES_IN_SCOPE, "/audit/"])
def test_pages_anonymous_redirect_to_login(client_as: Any, url: str) -> None:
    response = client_as(None).get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", PAGES_IN_SCOPE)
def test_pages_in_scope_with_role(client_as: Any, url: str) -> None:
    response = client_as("demo-street").get(url)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        f"/regions/{JIANGNAN_GRID}/",
        f"/regions/{JIANGNAN}/",
        f"/regions/{JIANGNAN}/children/",
        f"/regions/{MISSING}/",
        "/regions/440704/",
    ],
)
def test_pages_out_of_scope_are_404_like_missing(client_as: Any, url: str) -> None:
    response = client_as("demo-street").get(url)
    assert response.status_code == 404
    assert JIANGNAN_GRID not in response.content.decode()
    assert "江南街道" not in response.content.decode()


@pytest.mark.parametrize(
    "url", ["/regions/", "/regions/map/", "/regions/layers/", f"/regions/{LILE_GRID}/", "/audit/"]
)
def test_pages_without_any_grant_are_404(client_as: Any, nobody: User, url: str) -> None:
    client = client_as(None)
    client.force_login(nobody)
    assert client.get(url).status_code == 404


def test_audit_page_needs_the_auditor_role(client_as: Any) -> None:
    # In scope (the whole district) without the role: 404.
    assert client_as("demo-district").get("/audit/").status_code == 404
    response = client_as("demo-auditor").get("/audit/?action=region.")
    assert response.status_code == 200
    assert "region.create" in response.content.decode()


def test_tree_shows_only_the_scope(client_as: Any) -> None:
    body = client_as("demo-street").get("/regions/").content.decode()
    assert "礼乐街道" in body and "江南街道" not in body and "外海街道" not in body
    body = client_as("demo-district").get("/regions/").content.decode()
    assert "江海区" in body


def test_grid_leader_sees_only_its_grid(client_as: Any) -> None:
    client = client_as("demo-grid")
    assert client.get(f"/regions/{LILE_GRID}/").status_code == 200
    assert client.get("/regions/440704003001002/").status_code == 404
    assert client.get("/regions/440704003001/").status_code == 404


# -- API ---------------------------------------------------------------------------------------

API_IN_SCOPE = [
    "/api/v1/me",
    "/api/v1/regions",
    f"/api/v1/regions/{LILE_GRID}",
    "/api/v1/grids.geojson",
    "/api/v1/layers",
    "/api/v1/layers/chengguan/straddling",
    "/api/v1/locate?lon={lon}&lat={lat}",
]


def _grid_point(code: str) -> tuple[float, float]:
    import shapely

    from wangge.regions.models import Boundary

    geojson = Boundary.objects.dangerously_unscoped().get(region__code=code, valid_to=None).geojson
    point = shapely.from_geojson(geojson).representative_point()
    return point.x, point.y


@pytest.mark.parametrize("url", [*API_IN_SCOPE, "/api/v1/audit"])
def test_api_anonymous_is_401(api_as: Any, url: str) -> None:
    response = api_as(None).get(url.format(lon=113.1, lat=22.5))
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_api_bad_token_is_401(db: Any) -> None:
    from django.test import Client

    response = Client(headers={"Authorization": "Bearer wg_not-a-token"}).get("/api/v1/regions")
    assert response.status_code == 401


@pytest.mark.parametrize("url", API_IN_SCOPE)
def test_api_in_scope_with_role(api_as: Any, url: str) -> None:
    lon, lat = _grid_point(LILE_GRID)
    response = api_as("demo-street").get(url.format(lon=lon, lat=lat))
    assert response.status_code == 200, response.content


def test_api_out_of_scope_is_404_like_missing(api_as: Any) -> None:
    client = api_as("demo-street")
    out = client.get(f"/api/v1/regions/{JIANGNAN_GRID}")
    missing = client.get(f"/api/v1/regions/{MISSING}")
    assert out.status_code == missing.status_code == 404
    assert (
        out.json()
        == missing.json()
        == {"code": "not_found", "message": out.json()["message"], "details": None}
    )
    lon, lat = _grid_point(JIANGNAN_GRID)
    located = client.get(f"/api/v1/locate?lon={lon}&lat={lat}")
    assert located.status_code == 404 and JIANGNAN_GRID not in located.content.decode()


def test_api_lists_only_the_scope(api_as: Any) -> None:
    body = api_as("demo-street").get("/api/v1/regions?level=grid&limit=500").json()
    assert body["count"] == len(body["items"]) > 0
    assert all(item["code"].startswith(LILE) for item in body["items"])
    geo = api_as("demo-street").get("/api/v1/grids.geojson").json()
    codes = {f["properties"]["code"] for f in geo["features"]}
    assert codes and all(code.startswith(LILE) for code in codes)
    assert len(codes) == body["count"]


def test_api_without_any_grant_sees_nothing(api_as: Any, nobody: User, system: Any) -> None:
    from django.test import Client

    from wangge.core.services import token_create

    _t, plain = token_create(actor=system, user=nobody, name="t")
    client = Client(headers={"Authorization": f"Bearer {plain}"})
    assert client.get("/api/v1/regions").status_code == 404
    assert client.get(f"/api/v1/regions/{LILE_GRID}").status_code == 404
    assert client.get("/api/v1/layers").status_code == 404
    assert client.get("/api/v1/audit").status_code == 404


def test_api_audit_needs_auditor(api_as: Any) -> None:
    assert api_as("demo-district").get("/api/v1/audit").status_code == 404
    body = api_as("demo-auditor").get("/api/v1/audit?action=region.create&limit=5").json()
    regions = Region.objects.dangerously_unscoped().count()
    assert body["count"] >= regions and len(body["items"]) == 5
    assert all(item["action"] == "region.create" for item in body["items"])


def test_api_locate_with_crs(api_as: Any) -> None:
    from wangge.core.geo import gcj02_to_bd09, wgs84_to_gcj02

    lon, lat = _grid_point(LILE_GRID)
    client = api_as("demo-street")
    glon, glat = wgs84_to_gcj02(lon, lat)
    blon, blat = gcj02_to_bd09(glon, glat)
    for params in (
        f"lon={lon}&lat={lat}",
        f"lon={glon}&lat={glat}&crs=gcj02",
        f"lon={blon}&lat={blat}&crs=bd09",
    ):
        body = client.get(f"/api/v1/locate?{params}").json()
        assert body["grid"]["code"] == LILE_GRID, params
        assert body["community"]["name"] == "英南村"
        assert body["street"]["name"] == "礼乐街道"


def test_api_locate_outside_and_bad_input(api_as: Any) -> None:
    client = api_as("demo-district")
    outside = client.get("/api/v1/locate?lon=100&lat=30")
    assert outside.status_code == 404 and outside.json()["code"] == "outside_grids"
    bad = client.get("/api/v1/locate?lon=abc&lat=30")
    assert bad.status_code == 422 and bad.json()["code"] == "invalid"
    assert client.get("/api/v1/locate?lon=1&lat=2&crs=xyz").status_code == 422


def test_department_officer_sees_the_district_regions(api_as: Any) -> None:
    body = api_as("demo-dept").get("/api/v1/regions?level=street").json()
    assert body["count"] == 3
