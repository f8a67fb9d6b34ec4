from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from wangge.core.geo import (
    area_m2,
    bd09_to_gcj02,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_wgs84,
    wgs84_to_gcj02,
)


def test_gcj02_matches_published_reference() -> None:
    # Reference pairs from the eviltransform project's test suite (WGS-84 → GCJ-02).
    lon, lat = wgs84_to_gcj02(121.5272106, 31.1774276)
    assert lon == pytest.approx(121.531541859215, abs=1e-9)
    assert lat == pytest.approx(31.17530398364597, abs=1e-9)
    lon, lat = wgs84_to_gcj02(113.912316, 22.543847)
    assert (lon, lat) != (113.912316, 22.543847)


def test_outside_china_is_not_shifted() -> None:
    lon, lat = wgs84_to_gcj02(2.35, 48.85)
    assert (float(lon), float(lat)) == (2.35, 48.85)


china_lon = st.floats(min_value=73.5, max_value=135.0)
china_lat = st.floats(min_value=18.0, max_value=53.5)


@given(china_lon, china_lat)
def test_gcj02_round_trip(lon: float, lat: float) -> None:
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert abs(back_lon - lon) < 1e-8 and abs(back_lat - lat) < 1e-8


@given(china_lon, china_lat)
def test_bd09_round_trip(lon: float, lat: float) -> None:
    back_lon, back_lat = to_wgs84(*gcj02_to_bd09(*wgs84_to_gcj02(lon, lat)), "bd09")
    # The published BD-09 formulas invert to about 5e-6° (< 0.6 m).
    assert abs(back_lon - lon) < 5e-6 and abs(back_lat - lat) < 5e-6


def test_vectorised_equals_scalar() -> None:
    lons = np.array([113.05, 113.10, 113.15])
    lats = np.array([22.50, 22.55, 22.60])
    vec = wgs84_to_gcj02(lons, lats)
    for i in range(3):
        one = wgs84_to_gcj02(lons[i], lats[i])
        assert vec[0][i] == one[0] and vec[1][i] == one[1]
    assert bd09_to_gcj02(*gcj02_to_bd09(lons, lats))[0].shape == (3,)


def test_area_of_a_known_square() -> None:
    # 0.01° × 0.01° at the equator: 1113.2 m × 1105.7 m on GRS80.
    area = area_m2(shapely.box(0, 0, 0.01, 0.01))
    assert area == pytest.approx(1_230_880, rel=2e-3)
    assert area_m2(shapely.Polygon()) == 0.0
