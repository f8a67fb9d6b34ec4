"""Bulk import of people, end to end (parse, validate, encrypt, blind-index, locate, insert),
beside (a) the physical limit — raw executemany (SQLite) / COPY (PostgreSQL) of the same final
rows into the same table and indexes — and (b) the naive Django path (model instances,
bulk_create), all in one run. Peak memory of the import process is printed too.

Run:  .venv/bin/python benchmarks/import_people.py [--rows N] [--postgres URL|--no-postgres]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
PG_DEFAULT = "postgres://postgres@127.0.0.1:5432/postgres"


def generate(path: Path, rows: int, seed: int = 1) -> None:
    """A people register: valid ID numbers and phones, locations inside the demo's grids."""
    import shapely

    from wangge.core.validators import id_check_char
    from wangge.demo import geometry

    grids = [
        shapely.geometry.shape(f["geometry"])
        for f in geometry.build_unified()["features"]
        if f["properties"]["level"] == "grid"
    ]
    points = [g.representative_point() for g in grids]
    rng = random.Random(seed)
    surnames = "陈李黄张梁刘林吴何郑谭罗冯陆余谢"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["姓名", "身份证号", "手机号码", "经度", "纬度", "人口类型", "工作单位", "职业"]
        )
        for i in range(rows):
            birth = f"{rng.randint(1935, 2022)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
            first = f"{440000 + i // 1000:06d}{birth}{i % 1000:03d}"
            p = points[i % len(points)]
            writer.writerow(
                [
                    rng.choice(surnames) + "某" + str(i % 97),
                    first + id_check_char(first),
                    f"1{rng.choice('3589')}{i:09d}",
                    f"{p.x + rng.uniform(-1e-5, 1e-5):.7f}",
                    f"{p.y + rng.uniform(-1e-5, 1e-5):.7f}",
                    rng.choice("1112"),
                    "江门某公司",
                    "职员",
                ]
            )


def env_for(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {**os.environ, "WANGGE_DATA_DIR": str(data_dir)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if database_url:
        env["WANGGE_DATABASE_URL"] = database_url
    else:
        env.pop("WANGGE_DATABASE_URL", None)
    return env


def prepare_db(data_dir: Path, database_url: str | None, *, regions: bool) -> None:
    env = env_for(data_dir, database_url)
    subprocess.run([BIN / "wangge", "migrate", "-v0"], env=env, check=True)
    if regions:
        code = (
            "import json, django; django.setup();"
            "from wangge.demo import geometry; from wangge.regions.services import grids_import;"
            "from wangge.core.scope import Scope;"
            "r = grids_import(actor=Scope.system(), data=json.dumps(geometry.build_unified()).encode());"
            "assert r.ok"
        )
        subprocess.run(
            [sys.executable, "-c", code],
            env={**env, "DJANGO_SETTINGS_MODULE": "wangge.settings"},
            check=True,
        )


def run_wangge(
    data_dir: Path, database_url: str | None, csv_path: Path
) -> tuple[float, dict[str, Any], float]:
    env = env_for(data_dir, database_url)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    out = subprocess.run(
        [BIN / "wangge", "ledger", "import", "people", str(csv_path), "--json"],
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0 and not out.stdout.strip():
        raise SystemExit(f"wangge ledger import failed: {out.stderr[-2000:]}")
    elapsed = time.perf_counter() - started
    peak_kib = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before)
    return elapsed, json.loads(out.stdout), peak_kib / 1024


FIELDS = [
    "grid_code", "name", "gender", "ethnicity", "birth_date", "id_number", "id_index",
    "id_checked", "phone", "phone_index", "registered_address", "current_address", "room_id",
    "population_type", "separated", "move_in", "expected_leave", "employer", "occupation",
    "marital_status", "education", "political_status", "relation", "care_tags", "created_at",
    "updated_at",
]  # fmt: skip


def sqlite_limit(source: Path, target_dir: Path) -> float:
    """Raw sqlite3 executemany of the imported rows into an empty copy of the same table."""
    prepare_db(target_dir, None, regions=False)
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target_dir / "wangge.sqlite3")
    dst.execute("PRAGMA journal_mode=WAL")
    dst.execute("PRAGMA synchronous=NORMAL")
    cols = ", ".join(FIELDS)
    marks = ", ".join("?" * len(FIELDS))
    reader = src.execute(f"SELECT {cols} FROM ledger_person ORDER BY id")
    spent = 0.0
    while True:
        rows = reader.fetchmany(50_000)
        if not rows:
            break
        started = time.perf_counter()
        with dst:
            dst.executemany(f"INSERT INTO ledger_person ({cols}) VALUES ({marks})", rows)
        spent += time.perf_counter() - started
    return spent


def pg_limit(source_url: str, target_url: str) -> float:
    import psycopg

    cols = ", ".join(FIELDS)
    spent = 0.0
    with psycopg.connect(_libpq(source_url)) as src, psycopg.connect(_libpq(target_url)) as dst:
        with src.cursor(name="rows") as reader:
            reader.execute(f"SELECT {cols} FROM ledger_person ORDER BY id")
            while True:
                rows = reader.fetchmany(50_000)
                if not rows:
                    break
                started = time.perf_counter()
                with (
                    dst.cursor() as cur,
                    cur.copy(f"COPY ledger_person ({cols}) FROM STDIN") as copy,
                ):
                    for row in rows:
                        copy.write_row(row)
                dst.commit()
                spent += time.perf_counter() - started
    return spent


def _libpq(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def naive_django(data_dir: Path, database_url: str | None, csv_path: Path, rows: int) -> float:
    """Model instances and bulk_create, as a Django developer would write the import."""
    env = env_for(data_dir, database_url)
    code = f"""
import csv, time, django
django.setup()
from wangge.core.crypto import blind_index
from wangge.core.validators import parse_id_number, parse_mobile
from wangge.ledger.models import Person
from wangge.regions.locate import grid_index
index = grid_index()
started = time.perf_counter()
batch = []
with open({str(csv_path)!r}, encoding="utf-8", newline="") as handle:
    reader = csv.reader(handle)
    next(reader)
    for name, id_number, phone, lon, lat, ptype, employer, occupation in reader:
        parsed = parse_id_number(id_number)
        phone = parse_mobile(phone)
        grid = index.codes_for(index.locate([float(lon)], [float(lat)]))[0]
        batch.append(Person(grid_code=grid, name=name, gender=parsed.gender,
            birth_date=parsed.birth_date, id_number=parsed.value,
            id_index=blind_index(parsed.value, context="ledger.person.id_number"),
            phone=phone, phone_index=blind_index(phone, context="ledger.phone"),
            population_type=ptype, employer=employer, occupation=occupation))
        if len(batch) == 5000:
            Person.objects.bulk_create(batch)
            batch = []
if batch:
    Person.objects.bulk_create(batch)
print(time.perf_counter() - started)
"""
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "DJANGO_SETTINGS_MODULE": "wangge.settings"},
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def report(
    label: str,
    rows: int,
    ours: float,
    result: dict[str, Any],
    peak_mib: float,
    limit: float,
    naive: float | None,
    naive_rows: int,
) -> bool:
    rate = rows / ours
    limit_rate = rows / limit
    print(f"\n== {label}: {rows:,} rows")
    print(
        f"  accounting: {json.dumps({k: result[k] for k in ('total', 'inserted', 'updated', 'skipped', 'rejected')})}"
    )
    print(
        f"  wangge import (end to end, incl. start-up)  {rate:10,.0f} rows/s   peak memory {peak_mib:,.0f} MiB"
    )
    print(f"  limit: raw insert of the same final rows    {limit_rate:10,.0f} rows/s")
    ok = rate >= 0.5 * limit_rate and peak_mib < 1024 and result["inserted"] == rows
    if naive is not None:
        naive_rate = naive_rows / naive
        print(
            f"  naive Django (instances + bulk_create)     {naive_rate:10,.0f} rows/s   (on {naive_rows:,} rows)"
        )
        print(
            f"  ratio wangge / naive bulk_create            {rate / naive_rate:10.2f}×  (target ≥ 2×)"
        )
        ok = ok and rate >= 2 * naive_rate
    print(
        f"  ratio wangge / limit                        {rate / limit_rate:10.2f}   (target ≥ 0.5)"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--naive-rows", type=int, default=0, help="rows for the naive path (default: all)"
    )
    parser.add_argument("--postgres", default=os.environ.get("WANGGE_BENCH_PG", PG_DEFAULT))
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    naive_rows = args.naive_rows or args.rows
    work = Path(tempfile.mkdtemp(prefix="wangge-bench-"))
    print(f"people import benchmark — {os.cpu_count()} cores, {args.rows:,} rows, work dir {work}")
    csv_path = work / "people.csv"
    started = time.perf_counter()
    generate(csv_path, args.rows)
    naive_csv = csv_path
    if naive_rows != args.rows:
        naive_csv = work / "people-naive.csv"
        generate(naive_csv, naive_rows)
    print(
        f"  generated {csv_path.stat().st_size / 1e6:,.0f} MB in {time.perf_counter() - started:.1f} s"
    )
    all_ok = True

    # SQLite
    ours_dir, limit_dir, naive_dir = (
        work / "sqlite-ours",
        work / "sqlite-limit",
        work / "sqlite-naive",
    )
    prepare_db(ours_dir, None, regions=True)
    ours, result, peak = run_wangge(ours_dir, None, csv_path)
    limit = sqlite_limit(ours_dir / "wangge.sqlite3", limit_dir)
    prepare_db(naive_dir, None, regions=True)
    naive = naive_django(naive_dir, None, naive_csv, naive_rows)
    all_ok &= report("SQLite", args.rows, ours, result, peak, limit, naive, naive_rows)

    # PostgreSQL
    if not args.no_postgres:
        try:
            import psycopg

            admin = psycopg.connect(_libpq(args.postgres), autocommit=True)
        except Exception as exc:
            print(f"\n== PostgreSQL: not reachable at {args.postgres} ({exc}); skipped")
        else:
            base = args.postgres.rsplit("/", 1)[0]
            names = [f"wangge_bench_{p}_{os.getpid()}" for p in ("ours", "limit", "naive")]
            for name in names:
                admin.execute(f'CREATE DATABASE "{name}"')
            try:
                urls = [f"{base}/{name}" for name in names]
                prepare_db(work / "pg-ours", urls[0], regions=True)
                ours, result, peak = run_wangge(work / "pg-ours", urls[0], csv_path)
                prepare_db(work / "pg-limit", urls[1], regions=False)
                limit = pg_limit(urls[0], urls[1])
                prepare_db(work / "pg-naive", urls[2], regions=True)
                naive = naive_django(work / "pg-naive", urls[2], naive_csv, naive_rows)
                all_ok &= report(
                    "PostgreSQL (COPY)", args.rows, ours, result, peak, limit, naive, naive_rows
                )
            finally:
                for name in names:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.close()
    shutil.rmtree(work, ignore_errors=True)
    print(
        "\nTARGET",
        "MET" if all_ok else "MISSED",
        "(≥ 0.5× the raw limit, ≥ 2× bulk_create, < 1 GiB)",
    )
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
