"""Point → grid, for one point or millions, vectorised.

The index is a uniform raster of cells over the grids' extent. A cell that lies wholly inside
one grid answers every point in it with a table lookup; only points in cells that a grid
boundary crosses are tested exactly (prepared point-in-polygon, vectorised in GEOS) against the
few grids whose boundary reaches that cell. The index is built once per boundary revision and
cached per process; `grid_index()` rebuilds it when `BoundaryRevision` moves.

Points exactly on a shared edge belong to the grid that sorts first by code (deterministic).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from wangge.core.geo import Crs, to_wgs84

MIN_CELLS = 1 << 16
MAX_CELLS = 1 << 20
CELLS_PER_GRID = 1024


@dataclass
class PolygonIndex:
    """A point-location index over an array of polygons (any layer)."""

    geoms: NDArray[Any]
    x0: float
    y0: float
    dx: float
    dy: float
    nx: int
    ny: int
    interior: NDArray[np.int32]  # per cell: the polygon wholly containing it, or -1
    cand_start: NDArray[np.int64]  # per cell + 1: CSR offsets into cand_poly
    cand_poly: NDArray[np.int32]

    @classmethod
    def build(cls, geoms: ArrayLike) -> PolygonIndex:
        polys = np.asarray(geoms, dtype=object)
        n = len(polys)
        if n == 0:
            empty32 = np.zeros(0, dtype=np.int32)
            return cls(polys, 0.0, 0.0, 1.0, 1.0, 0, 0, empty32, np.zeros(1, np.int64), empty32)
        shapely.prepare(polys)
        bounds = shapely.bounds(polys)
        x0, y0 = float(bounds[:, 0].min()), float(bounds[:, 1].min())
        x1, y1 = float(bounds[:, 2].max()), float(bounds[:, 3].max())
        width, height = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
        cells = min(max(n * CELLS_PER_GRID, MIN_CELLS), MAX_CELLS)
        nx = max(1, round((cells * width / height) ** 0.5))
        ny = max(1, round(cells / nx))
        # Pad by half a cell so points on the outer edge fall inside the raster.
        dx, dy = width / nx * (1 + 1e-9), height / ny * (1 + 1e-9)

        ix0 = np.clip(((bounds[:, 0] - x0) // dx).astype(np.int64), 0, nx - 1)
        ix1 = np.clip(((bounds[:, 2] - x0) // dx).astype(np.int64), 0, nx - 1)
        iy0 = np.clip(((bounds[:, 1] - y0) // dy).astype(np.int64), 0, ny - 1)
        iy1 = np.clip(((bounds[:, 3] - y0) // dy).astype(np.int64), 0, ny - 1)
        w = ix1 - ix0 + 1
        h = iy1 - iy0 + 1
        per_poly = w * h
        poly_of_pair = np.repeat(np.arange(n, dtype=np.int64), per_poly)
        offset = np.arange(int(per_poly.sum()), dtype=np.int64) - np.repeat(
            np.cumsum(per_poly) - per_poly, per_poly
        )
        cx = ix0[poly_of_pair] + offset % w[poly_of_pair]
        cy = iy0[poly_of_pair] + offset // w[poly_of_pair]
        boxes = shapely.box(x0 + cx * dx, y0 + cy * dy, x0 + (cx + 1) * dx, y0 + (cy + 1) * dy)
        touches = shapely.intersects(polys[poly_of_pair], boxes)
        poly_of_pair, cx, cy, boxes = (
            poly_of_pair[touches],
            cx[touches],
            cy[touches],
            boxes[touches],
        )
        cell = cy * nx + cx
        inside = shapely.contains(polys[poly_of_pair], boxes)

        interior = np.full(nx * ny, -1, dtype=np.int32)
        # Assign in reverse so that the lowest polygon index wins where grids overlap.
        interior[cell[inside][::-1]] = poly_of_pair[inside][::-1].astype(np.int32)
        keep = interior[cell] < 0
        cell, poly_of_pair = cell[keep], poly_of_pair[keep]
        order = np.lexsort((poly_of_pair, cell))
        cell, poly_of_pair = cell[order], poly_of_pair[order]
        cand_start = np.searchsorted(cell, np.arange(nx * ny + 1)).astype(np.int64)
        return cls(
            polys, x0, y0, dx, dy, nx, ny, interior, cand_start, poly_of_pair.astype(np.int32)
        )

    def locate(self, x: ArrayLike, y: ArrayLike) -> NDArray[np.int32]:
        """Index of the polygon holding each point, or -1 outside every polygon."""
        xs = np.asarray(x, dtype=np.float64)
        ys = np.asarray(y, dtype=np.float64)
        result = np.full(xs.shape, -1, dtype=np.int32)
        if self.nx == 0 or xs.size == 0:
            return result
        fx = (xs - self.x0) / self.dx
        fy = (ys - self.y0) / self.dy
        ok = (fx >= 0) & (fx < self.nx) & (fy >= 0) & (fy < self.ny)  # NaN compares False
        pts = np.nonzero(ok)[0]
        cell = fy[pts].astype(np.int64) * self.nx + fx[pts].astype(np.int64)
        owner = self.interior[cell]
        result[pts] = owner
        edge = owner < 0
        pts, cell = pts[edge], cell[edge]
        start = self.cand_start[cell]
        counts = self.cand_start[cell + 1] - start
        has = counts > 0
        pts, start, counts = pts[has], start[has], counts[has]
        if pts.size == 0:
            return result
        rep_pt = np.repeat(pts, counts)
        first = np.cumsum(counts) - counts
        cand = self.cand_poly[
            np.repeat(start, counts) + np.arange(int(counts.sum())) - np.repeat(first, counts)
        ]
        hit = shapely.intersects_xy(self.geoms[cand], xs[rep_pt], ys[rep_pt])
        hit_pts, hit_cand = rep_pt[hit], cand[hit]
        # Candidates are sorted by polygon index within each point: keep the first hit.
        uniq, first_idx = np.unique(hit_pts, return_index=True)
        result[uniq] = hit_cand[first_idx]
        return result


@dataclass
class GridIndex:
    revision: int
    codes: NDArray[Any]  # grid codes, sorted
    names: dict[str, str]  # code → name for grids and their ancestors
    polygons: PolygonIndex
    _tree: shapely.STRtree | None = None

    def locate(
        self, lon: ArrayLike, lat: ArrayLike, crs: Crs | str = Crs.WGS84
    ) -> NDArray[np.int32]:
        x, y = to_wgs84(lon, lat, crs)
        return self.polygons.locate(x, y)

    def codes_for(self, idx: NDArray[np.int32]) -> list[str | None]:
        return [None if i < 0 else str(self.codes[i]) for i in idx.tolist()]

    def position(self, code: str) -> int | None:
        i = int(np.searchsorted(self.codes, code)) if len(self.codes) else 0
        return i if i < len(self.codes) and self.codes[i] == code else None

    def tree(self) -> shapely.STRtree:
        if self._tree is None:
            self._tree = shapely.STRtree(self.polygons.geoms)
        return self._tree


_lock = threading.Lock()
_cache: dict[str, GridIndex] = {}


def _current_revision() -> int:
    from wangge.regions.models import BoundaryRevision

    row = BoundaryRevision.objects.filter(key="grids").values_list("revision", flat=True).first()
    return int(row or 0)


def _build(revision: int, at: datetime | None = None) -> GridIndex:
    from wangge.regions.selectors import boundaries_unscoped, region_names_unscoped

    rows = boundaries_unscoped(level="grid", at=at)
    codes = np.array([code for code, _ in rows], dtype=object)
    geoms = shapely.from_geojson([geojson for _, geojson in rows]) if rows else []
    return GridIndex(
        revision=revision,
        codes=codes,
        names=region_names_unscoped(),
        polygons=PolygonIndex.build(geoms),
    )


def grid_index(at: datetime | None = None) -> GridIndex:
    """The index of current grids (or of the grids valid at `at`, built afresh, not cached)."""
    revision = _current_revision()
    if at is not None:
        return _build(revision, at)
    cached = _cache.get("grids")
    if cached is not None and cached.revision == revision:
        return cached
    with _lock:
        cached = _cache.get("grids")
        if cached is None or cached.revision != revision:
            cached = _build(revision)
            _cache["grids"] = cached
        return cached
