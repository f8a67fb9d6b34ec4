"""Hostile input to the restructuring page: a message, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

from wangge.restructure.tests.test_restructure import FIFTH, MINE, NANCUN

pytestmark = pytest.mark.django_db

POLYGON = {"type": "Polygon", "coordinates": [[[0, 0], [1e308, 0], [1e308, 1e308], [0, 0]]]}


@pytest.mark.parametrize(
    "form",
    [
        {"op": "split", "grids": MINE, "pieces_text": "[]"},
        {"op": "split", "grids": MINE, "pieces_text": "{}"},
        {"op": "split", "grids": MINE, "pieces_text": json.dumps({"type": "FeatureCollection"})},
        {
            "op": "split",
            "grids": MINE,
            "pieces_text": json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {"type": "Feature", "properties": {"code": c}, "geometry": POLYGON}
                        for c in (MINE, "440704003001006")
                    ],
                }
            ),
        },
        {"op": "merge", "grids": f"{MINE} 440704003001002", "code": "<script>"},
        {"op": "merge", "grids": "长" * 300},
        {"op": "move", "grids": FIFTH, "community": "x" * 5000},
        {"op": "move", "grids": FIFTH, "community": NANCUN, "effective": "0001-01-01"},
        {"op": "move", "grids": FIFTH, "community": NANCUN, "effective": "2024-02-30"},
        {"op": "move", "grids": FIFTH, "community": NANCUN, "mapping": 'a,"b\n'},
        {"op": "move", "grids": FIFTH, "community": NANCUN, "default": "' OR 1=1 --"},
        {"op": "recode", "grids": FIFTH, "code": "9" * 15},
        {"op": "recode", "grids": FIFTH, "name": "长" * 300},
    ],
)
def test_hostile_input_is_answered_without_a_5xx(client_as: Any, form: dict[str, str]) -> None:
    response = client_as("demo-district").post("/restructure/", form)
    assert response.status_code in {200, 400}
    assert b"Traceback" not in response.content
