"""Bulk locate, end to end and in memory.

End to end (the target): `wangge grids locate --csv IN --out OUT` on a 1,000,000-row CSV against
the demo's 190 grids (stored in a fresh SQLite database, the index built from it each run) beside
geopandas' `read_csv` + `points_from_xy` + `sjoin` + `to_csv` on the same file, in the same run;
both read and write files, both outputs are compared. The CLI is also timed as a separate process
(interpreter and Django start-up included).

In memory: 1,000,000 random points against the demo's 190 grids and a synthetic layer of 100,000
grids. Prints points/s for wangge's locate, geopandas.sjoin, a per-polygon bounding-box +
contains_xy pass and a naive per-point loop, the ratios, and whether the results are identical.
The physical limit printed is one vectorised numpy pass over the same x/y arrays (computing a
raster cell id per point): no point-location method can touch each point fewer times.

Run:  .venv/bin/python benchmarks/locate.py [--points N] [--large N] [--e2e-only]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
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


# --- end to end: CSV in, CSV out ---------------------------------------------------------------


def write_points_csv(path: Path, polys: list[Any], n_points: int, seed: int) -> None:
    """A register of points as a district would export it: an id, a name, lon/lat with seven
    decimals, some outside every grid (2 % margin), one in a thousand without coordinates."""
    rng = np.random.default_rng(seed)
    bx0, by0, bx1, by1 = shapely.total_bounds(np.array(polys, dtype=object))
    pad = 0.02 * max(bx1 - bx0, by1 - by0)
    x = rng.uniform(bx0 - pad, bx1 + pad, n_points)
    y = rng.uniform(by0 - pad, by1 + pad, n_points)
    blank = rng.random(n_points) < 0.001
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["编号", "名称", "经度", "纬度"])
        for i in range(n_points):
            lon, lat = ("", "") if blank[i] else (f"{x[i]:.7f}", f"{y[i]:.7f}")
            writer.writerow([i + 1, f"点位{i % 997}", lon, lat])


def e2e_child(args: argparse.Namespace) -> int:
    """The end-to-end comparison, in a process of its own (Django set up on a fresh database)."""
    from django_setup import setup_django

    work = Path(args.work)
    setup_django(f"sqlite:///{work / 'db.sqlite3'}", str(work / "data"))
    import geopandas as gpd
    import pandas as pd
    from django.core.management import call_command

    from wangge.core.scope import Scope
    from wangge.regions import locate
    from wangge.regions.services import grids_import

    assert grids_import(
        actor=Scope.system("bench"), data=json.dumps(geometry.build_unified()).encode()
    ).ok
    doc = geometry.build_unified()
    grids = [
        (f["properties"]["code"], shapely.geometry.shape(f["geometry"]))
        for f in doc["features"]
        if f["properties"]["level"] == "grid"
    ]
    src = work / "points.csv"
    started = time.perf_counter()
    write_points_csv(src, [g for _, g in grids], args.points, seed=5)
    print(
        f"  input: {args.points:,} rows, {src.stat().st_size / 1e6:.1f} MB "
        f"(written in {time.perf_counter() - started:.1f} s)",
        flush=True,
    )
    ours_out, theirs_out = work / "wangge.csv", work / "geopandas.csv"

    def wangge_run() -> dict[str, Any]:
        locate._cache.clear()  # the index is built from the database in every run
        buffer = io.StringIO()
        call_command(
            "grids", "locate", "--csv", str(src), "--out", str(ours_out), "--json", stdout=buffer
        )
        return json.loads(buffer.getvalue())

    def geopandas_run() -> None:
        # As a GIS user writes it: the grids' frame (and so its spatial index) made in the run.
        polys = gpd.GeoDataFrame(
            {"grid_code": [c for c, _ in grids]}, geometry=[g for _, g in grids], crs="EPSG:4326"
        )
        df = pd.read_csv(src, dtype={"编号": str, "名称": str})
        pts = gpd.GeoDataFrame(
            df, geometry=gpd.points_from_xy(df["经度"], df["纬度"]), crs="EPSG:4326"
        )
        joined = gpd.sjoin(pts, polys, how="left", predicate="intersects")
        joined = joined[~joined.index.duplicated(keep="first")]
        joined.drop(columns=["geometry", "index_right"]).to_csv(theirs_out, index=False)

    repeat = args.repeat
    wangge_s, summary = timed(wangge_run, repeat=repeat)
    print(f"  wangge grids locate (in process): {wangge_s:.2f} s", flush=True)
    geopandas_s, _ = timed(geopandas_run, repeat=repeat)
    print(f"  geopandas read_csv+sjoin+to_csv:  {geopandas_s:.2f} s", flush=True)

    ours = pd.read_csv(ours_out, dtype=str, keep_default_na=False)
    theirs = pd.read_csv(theirs_out, dtype=str, keep_default_na=False)
    # A point exactly on an edge two grids share (the input's 7-decimal lattice meets the demo's
    # edges) is in both: wangge takes the lower code (its rule), sjoin the first its tree lists.
    by_code = dict(grids)
    ties = differ = 0
    for i in np.nonzero((ours["grid_code"] != theirs["grid_code"]).to_numpy())[0]:
        x, y = float(ours["经度"][i]), float(ours["纬度"][i])
        a, b = ours["grid_code"][i], theirs["grid_code"][i]
        on_both = a and b and all(shapely.intersects_xy(by_code[c], x, y) for c in (a, b))
        if on_both and a < b:
            ties += 1
        else:
            differ += 1
    (work / "result.json").write_text(
        json.dumps(
            {
                "wangge_s": wangge_s,
                "geopandas_s": geopandas_s,
                "rows": summary["rows"],
                "located": summary["located"],
                "outside": summary["outside"],
                "invalid": summary["invalid"],
                "differ": differ,
                "ties": ties,
            }
        ),
    )
    return 0


def end_to_end(n_points: int, repeat: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="wangge-bench-locate-"))
    try:
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--e2e-child",
                str(work),
                "--points",
                str(n_points),
                "--repeat",
                str(repeat),
            ],
            check=True,
        )
        result = json.loads((work / "result.json").read_text())
        # The CLI as an operator runs it: a new process (Python, Django, the index) each time.
        env = {
            **os.environ,
            "WANGGE_DATA_DIR": str(work / "data"),
            "WANGGE_DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}",
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        # As an installed package runs (pip compiles the bytecode): cached, whatever the shell says.
        env.pop("PYTHONDONTWRITEBYTECODE", None)

        def cli(name: str) -> None:
            subprocess.run(
                [
                    str(Path(sys.executable).parent / "wangge"),
                    "grids",
                    "locate",
                    "--csv",
                    str(work / name),
                    "--out",
                    str(work / "cli.csv"),
                ],
                env=env,
                check=True,
                capture_output=True,
            )

        (work / "one.csv").write_text("经度,纬度\n113.1,22.5\n", encoding="utf-8")
        cli("one.csv")  # compiles the bytecode once
        result["startup_s"], _ = timed(lambda: cli("one.csv"), repeat=repeat)
        result["cli_s"], _ = timed(lambda: cli("points.csv"), repeat=repeat)
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report_e2e(r: dict[str, Any], n_points: int) -> None:
    print(
        f"\n== end to end: {n_points:,}-row CSV → CSV, demo district (190 grids): "
        f"{r['located']:,} located, {r['outside']:,} outside, {r['invalid']:,} invalid"
    )
    print(
        f"  wangge grids locate, in process  {r['wangge_s']:7.2f} s  "
        f"{n_points / r['wangge_s'] / 1e6:6.2f} M rows/s"
    )
    print(
        f"  wangge grids locate, new process {r['cli_s']:7.2f} s  "
        f"{n_points / r['cli_s'] / 1e6:6.2f} M rows/s  (of which start-up — Python, Django, "
        f"system checks, the index — {r['startup_s']:.2f} s: a 1-row file)"
    )
    print(
        f"  geopandas read_csv+sjoin+to_csv  {r['geopandas_s']:7.2f} s  "
        f"{n_points / r['geopandas_s'] / 1e6:6.2f} M rows/s"
    )
    print(
        f"  ratio wangge / geopandas (in process)  {r['geopandas_s'] / r['wangge_s']:6.2f}×  "
        "(target ≥ 1.5×)"
    )
    print(
        f"  ratio wangge / geopandas (new process against geopandas in process) "
        f"{r['geopandas_s'] / r['cli_s']:6.2f}×"
    )
    same = "identical" if r["differ"] == 0 else f"{r['differ']} DIFFERENT"
    print(
        f"  grid codes vs geopandas: {same}, except {r['ties']} points on an edge two grids "
        "share (wangge: the lower code)"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="end to end: best of N runs")
    parser.add_argument("--e2e-only", action="store_true", help="skip the in-memory part")
    parser.add_argument("--e2e-child", metavar="DIR", dest="work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.work:
        return e2e_child(args)
    print(
        f"bulk locate benchmark — {os.cpu_count()} cores, shapely {shapely.__version__}, "
        f"GEOS {shapely.geos_version_string}"
    )
    e2e = end_to_end(args.points, args.repeat)
    report_e2e(e2e, args.points)
    e2e_ok = e2e["geopandas_s"] / e2e["wangge_s"] >= 1.5 and e2e["differ"] == 0
    print(
        "\nTARGET",
        "MET" if e2e_ok else "MISSED",
        "(end to end: wangge ≥ 1.5× geopandas in the same process, same grid codes)",
    )
    if args.e2e_only:
        return 0 if e2e_ok else 1
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
    return 0 if ok and e2e_ok else 1


if __name__ == "__main__":
    sys.exit(main())
