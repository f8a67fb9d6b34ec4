"""Small hand-made layers for import tests: a district 440799 of boxes, far from the demo."""

from __future__ import annotations

import copy
import json
from typing import Any

X0, Y0 = 113.50, 22.80  # south-west corner
STEP = 0.01  # ~1 km


def box(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


def feature(code: str, name: str, geometry: Any, **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name, **props},
        "geometry": geometry,
    }


def good_layer() -> dict[str, Any]:
    """District 440799 → street 440799001 → community 440799001001 → 4 grids (2 × 2 boxes)."""
    x1, y1 = X0 + 2 * STEP, Y0 + 2 * STEP
    features = [
        feature("440799", "测试区", box(X0, Y0, x1, y1)),
        feature("440799001", "测试街道", box(X0, Y0, x1, y1)),
        feature("440799001001", "测试社区", box(X0, Y0, x1, y1)),
    ]
    seq = 1
    for row in range(2):  # north → south
        for col in range(2):  # west → east
            gx0 = X0 + col * STEP
            gy1 = y1 - row * STEP
            features.append(
                feature(
                    f"440799001001{seq:03d}",
                    f"测试社区第{seq}网格",
                    box(gx0, gy1 - STEP, gx0 + STEP, gy1),
                    kind="basic",
                )
            )
            seq += 1
    return {"type": "FeatureCollection", "features": features}


def encode(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


def with_change(change: Any) -> dict[str, Any]:
    doc = copy.deepcopy(good_layer())
    change(doc["features"])
    return doc
