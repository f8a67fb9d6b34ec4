"""Bulk locate: 1,000,000 random points against the demo's 190 grids and a synthetic layer of
100,000 grids. Prints points/s for wangge's locate, geopandas.sjoin, a per-polygon bounding-box +
contains_xy pass and a naive per-point loop, the ratios, and whether the results are identical.

The physical limit printed is one vectorised numpy pass over the same x/y arrays (computing a
raster cell id per point): no point-location method can touch each point fewer times.

Run:  .venv/bin/python benchmarks/locate.py [--points N] [--large N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wangge.demo import geometry
from wangge.regions.locate import PolygonIndex


def demo_grids() -> list[Any]:
    doc = geometry.build_unified()
    return [
        shapely.geometry.shape(f["geometry"])
        for f in doc["features"]
        if f["properties"]["level"] == "grid"
    ]


def synthetic_grids(n: int, bounds: tuple[float, float, float, float], seed: int) -> list[Any]:
    """A Voronoi tessellation of n seeds: irregular grids like a real city's."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = bounds
    seeds = shapely.multipoints(rng.uniform([x0, y0], [x1, y1], size=(n, 2)))
    envelope = shapely.box(*bounds)
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=envelope))
    return list(shapely.intersection(cells, envelope))


def timed(fn: Any, repeat: int = 3) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def run(name: str, polys: list[Any], n_points: int, seed: int) -> dict[str, Any]:
    import geopandas as gpd

    rng = np.random.default_rng(seed)
    arr = np.array(polys, dtype=object)
    bx0, by0, bx1, by1 = shapely.total_bounds(arr)
    pad = 0.02 * max(bx1 - bx0, by1 - by0)
    x = rng.uniform(bx0 - pad, bx1 + pad, n_points)
    y = rng.uniform(by0 - pad, by1 + pad, n_points)

    build_s, index = timed(lambda: PolygonIndex.build(arr), repeat=1)
    wangge_s, ours = timed(lambda: index.locate(x, y))

    # geopandas.sjoin as a GIS user writes it; its spatial index is built before timing too.
    gdf = gpd.GeoDataFrame({"i": np.arange(len(polys))}, geometry=list(polys))
    sindex_s, _ = timed(lambda: gdf.sindex, repeat=1)

    def sjoin() -> np.ndarray:
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y))
        joined = gpd.sjoin(pts, gdf, how="left", predicate="intersects")
        joined = joined[~joined.index.duplicated(keep="first")]
        return joined["i"].fillna(-1).astype(np.int64).to_numpy()

    sjoin_s, theirs = timed(sjoin, repeat=2)

    def limit() -> np.ndarray:
        return ((y - by0) * 977.0).astype(np.int64) * 1024 + ((x - bx0) * 991.0).astype(np.int64)

    limit_s, _ = timed(limit)

    bbox_rate = None
    if len(polys) <= 1000:
        shapely.prepare(arr)
        bounds = shapely.bounds(arr)

        def bbox_contains() -> np.ndarray:
            out = np.full(n_points, -1)
            for j in range(len(arr)):
                m = (
                    (x >= bounds[j, 0])
                    & (x <= bounds[j, 2])
                    & (y >= bounds[j, 1])
                    & (y <= bounds[j, 3])
                )
                idx = np.nonzero(m)[0]
                hit = idx[shapely.contains_xy(arr[j], x[idx], y[idx])]
                out[hit[out[hit] < 0]] = j
            return out

        bbox_s, _ = timed(bbox_contains, repeat=1)
        bbox_rate = n_points / bbox_s

    sample = 2000 if len(polys) <= 1000 else 20
    prepared = list(arr)

    def naive() -> list[int]:
        found = []
        for i in range(sample):
            hit = -1
            for j, poly in enumerate(prepared):
                if shapely.intersects_xy(poly, x[i], y[i]):
                    hit = j
                    break
            found.append(hit)
        return found

    naive_s, naive_found = timed(naive, repeat=1)
    mismatches = int((ours.astype(np.int64) != theirs).sum())
    naive_mismatch = int((np.array(naive_found) != ours[:sample]).sum())
    return {
        "name": name,
        "grids": len(polys),
        "points": n_points,
        "build_s": build_s,
        "sindex_s": sindex_s,
        "wangge": n_points / wangge_s,
        "sjoin": n_points / sjoin_s,
        "bbox_contains": bbox_rate,
        "naive": sample / naive_s,
        "limit": n_points / limit_s,
        "mismatches": mismatches,
        "naive_mismatches": naive_mismatch,
        "outside": int((ours < 0).sum()),
    }


def report(r: dict[str, Any]) -> None:
    m = 1e6
    print(
        f"\n== {r['name']}: {r['grids']:,} grids, {r['points']:,} points "
        f"({r['outside']:,} outside every grid)"
    )
    print(
        f"  index build: wangge {r['build_s']:.2f} s, geopandas sindex {r['sindex_s']:.2f} s "
        "(both excluded from the rates below; built once per boundary change)"
    )
    print(f"  wangge locate            {r['wangge'] / m:8.2f} M points/s")
    print(f"  geopandas.sjoin          {r['sjoin'] / m:8.2f} M points/s")
    if r["bbox_contains"]:
        print(f"  bbox + contains_xy loop  {r['bbox_contains'] / m:8.2f} M points/s")
    print(f"  naive per-point loop     {r['naive'] / m:8.4f} M points/s (on a sample)")
    print(f"  limit: one numpy pass    {r['limit'] / m:8.2f} M points/s")
    print(f"  ratio wangge / sjoin          {r['wangge'] / r['sjoin']:8.2f}×  (target ≥ 1.0×)")
    if r["bbox_contains"]:
        print(f"  ratio wangge / bbox+contains  {r['wangge'] / r['bbox_contains']:8.2f}×")
    print(f"  ratio wangge / naive loop     {r['wangge'] / r['naive']:8.0f}×")
    print(f"  ratio wangge / limit          {r['wangge'] / r['limit']:8.3f}")
    once = r["points"] / (r["points"] / r["wangge"] + r["build_s"])
    with_sindex = r["points"] / (r["points"] / r["sjoin"] + r["sindex_s"])
    print(
        f"  one-off run incl. index build: wangge {once / m:.2f} vs sjoin {with_sindex / m:.2f} "
        "M points/s"
    )
    same = "identical" if r["mismatches"] == 0 else f"{r['mismatches']} DIFFERENT"
    print(f"  results vs sjoin: {same}; vs naive sample: {r['naive_mismatches']} different")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--large", type=int, default=100_000)
    args = parser.parse_args()
    print(
        f"bulk locate benchmark — {os.cpu_count()} cores, shapely {shapely.__version__}, "
        f"GEOS {shapely.geos_version_string}"
    )
    demo = demo_grids()
    results = [run("demo district (江海区)", demo, args.points, seed=1)]
    bounds = tuple(shapely.total_bounds(np.array(demo, dtype=object)))
    x0, y0, x1, y1 = bounds
    # A city-sized area (~Jiangmen's 9,500 km²) of irregular grids.
    big = (x0 - 0.3, y0 - 0.3, x1 + 0.3, y1 + 0.3)
    results.append(run("synthetic layer", synthetic_grids(args.large, big, 2), args.points, seed=3))
    for r in results:
        report(r)
    ok = all(r["wangge"] >= r["sjoin"] and r["mismatches"] == 0 for r in results)
    print("\nTARGET", "MET" if ok else "MISSED", "(wangge ≥ 1.0× sjoin with identical results)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
