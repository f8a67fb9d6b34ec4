"""Events (事), two measurements in one run:

(a) HTTP intake under an open-loop load: `wangge serve` (gunicorn, the production defaults) on
    loopback over SQLite with the demo district; POST /api/v1/events as the demo grid leader at
    fixed request rates. Requests are scheduled at t0 + i/rate whatever the earlier responses
    did, and latency is measured from the scheduled send time, so queueing shows (no
    coordinated omission). Beside it, "the limit": a request that does almost nothing (token
    check and one calendar computation) at the same rate through the same server.
(b) Indicators (结案率, 按期结案率 and the counts) over N synthetic events: the selector beside a
    hand-written SQL GROUP BY on the same table through the same connection, on SQLite and, if
    reachable, PostgreSQL; the results must be identical.

Run:  .venv/bin/python benchmarks/events.py [--rates 50,100,200] [--seconds 10] [--events N]
          [--postgres URL | --no-postgres]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
PG_DEFAULT = "postgres://postgres@127.0.0.1:5432/postgres"
GRID = "440704003001001"  # demo-grid's grid
TARGET_RATE = 100
TARGET_P99_MS = 250.0
LIMIT_PATH = "/api/v1/calendar/deadline?amount=1"


def _phase(label: str, started: float) -> None:
    print(f"  [setup] {label}: {time.perf_counter() - started:.1f} s", flush=True)


# --- (a) HTTP intake --------------------------------------------------------------------------


def site_env(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "WANGGE_DATA_DIR": str(data_dir)}
    env["WANGGE_DATABASE_URL"] = f"sqlite:///{data_dir / 'wangge.sqlite3'}"
    env["WANGGE_DEMO_PASSWORD"] = "bench-" + uuid.uuid4().hex[:12]
    env["WANGGE_LOG_LEVEL"] = "WARNING"
    for name in ("DJANGO_SETTINGS_MODULE", "WANGGE_DEMO", "WANGGE_DEBUG", "WANGGE_BIND"):
        env.pop(name, None)
    return env


def grid_points(n: int, seed: int = 7) -> list[tuple[float, float]]:
    """Random points spread over demo-grid's grid (kept ~1 m away from its edge)."""
    import shapely

    from wangge.demo import geometry

    feature = next(
        f for f in geometry.build_unified()["features"] if f["properties"]["code"] == GRID
    )
    polygon = shapely.geometry.shape(feature["geometry"]).buffer(-1e-5)
    x0, y0, x1, y1 = polygon.bounds
    rng = random.Random(seed)
    out: list[tuple[float, float]] = []
    while len(out) < n:
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if shapely.contains_xy(polygon, x, y):
            out.append((round(x, 7), round(y, 7)))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(proc: subprocess.Popen[bytes], port: int, token: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"wangge serve exited with {proc.returncode} before answering")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", LIMIT_PATH, headers={"Authorization": f"Bearer {token}"})
            resp = conn.getresponse()
            resp.read()
            conn.close()
            if resp.status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"wangge serve did not answer on port {port} within {seconds:.0f} s")


@dataclass
class Run:
    rate: float
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: int = 0
    reconnects: int = 0
    max_in_flight: int = 0
    span_s: float = 0.0

    @property
    def achieved(self) -> float:
        return len(self.latencies_ms) / self.span_s if self.span_s else 0.0

    def pct(self, q: float) -> float:
        values = sorted(self.latencies_ms)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, max(0, round(q * len(values)) - 1))]


def open_loop(
    port: int,
    make: Any,
    rate: float,
    seconds: float,
    threads: int,
) -> Run:
    """Send int(rate × seconds) requests, request i at t0 + i/rate, from `threads` threads with
    persistent HTTP/1.1 connections. Latency runs from the scheduled time to the last byte."""
    total = int(rate * seconds)
    run = Run(rate=rate, seconds=seconds)
    results: list[tuple[float, str, float] | None] = [None] * total
    counter = itertools.count()
    lock = threading.Lock()
    in_flight = [0]
    t0 = time.perf_counter() + 0.1

    def worker() -> None:
        conn: http.client.HTTPConnection | None = None
        used = False
        while True:
            with lock:
                i = next(counter)
            if i >= total:
                break
            due = t0 + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            method, path, body, headers = make(i)
            with lock:
                in_flight[0] += 1
                run.max_in_flight = max(run.max_in_flight, in_flight[0])
            outcome = ""
            for attempt in (0, 1):
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    used = False
                current = conn
                try:
                    current.request(method, path, body=body, headers=headers)
                    resp = current.getresponse()
                    resp.read()
                    outcome = str(resp.status)
                    if resp.will_close:
                        current.close()
                        conn = None
                    break
                except (
                    http.client.RemoteDisconnected,
                    ConnectionResetError,
                    BrokenPipeError,
                ) as exc:
                    # A keep-alive connection the server closed while idle: reconnect and resend
                    # once (safe: intake carries an Idempotency-Key). Counted, not hidden.
                    current.close()
                    conn = None
                    if used and attempt == 0:
                        with lock:
                            run.reconnects += 1
                        continue
                    outcome = type(exc).__name__
                    break
                except Exception as exc:
                    current.close()
                    conn = None
                    outcome = type(exc).__name__
                    break
            used = conn is not None
            done = time.perf_counter()
            with lock:
                in_flight[0] -= 1
            results[i] = ((done - due) * 1000.0, outcome, done)

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    last = t0
    for item in results:
        if item is None:
            continue
        latency, outcome, done = item
        run.latencies_ms.append(latency)
        run.statuses[outcome] += 1
        if not outcome.startswith("2"):
            run.errors += 1
        last = max(last, done)
    run.span_s = last - t0
    return run


def intake_request(token: str, points: list[tuple[float, float]]) -> Any:
    def make(i: int) -> tuple[str, str, bytes, dict[str, str]]:
        lon, lat = points[i % len(points)]
        body = json.dumps({"category": "0102", "title": "bench", "lon": lon, "lat": lat})
        headers = {
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": str(uuid.uuid4()),
            "Content-Type": "application/json",
        }
        return "POST", "/api/v1/events", body.encode(), headers

    return make


def limit_request(token: str) -> Any:
    headers = {"Authorization": f"Bearer {token}"}

    def make(_i: int) -> tuple[str, str, None, dict[str, str]]:
        return "GET", LIMIT_PATH, None, headers

    return make


def _line(label: str, run: Run) -> str:
    extra = ""
    if run.errors:
        extra = "  " + ", ".join(f"{k}×{v}" for k, v in sorted(run.statuses.items()))
    if run.reconnects:
        extra += f"  (keep-alive reconnects {run.reconnects})"
    return (
        f"    {label:<7} achieved {run.achieved:6.1f}/s  p50 {run.pct(0.50):7.1f}  "
        f"p99 {run.pct(0.99):7.1f}  max {run.pct(1.0):7.1f} ms  errors {run.errors}"
        f"  in flight ≤ {run.max_in_flight}{extra}"
    )


def intake_benchmark(args: argparse.Namespace, work: Path) -> bool:
    data_dir = work / "site"
    data_dir.mkdir()
    env = site_env(data_dir)
    print("\n== (a) HTTP intake: POST /api/v1/events on `wangge serve` (SQLite, loopback)")
    started = time.perf_counter()
    subprocess.run(
        [BIN / "wangge", "demo", "--build-only", "--people", "300"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    _phase("demo district built (--people 300)", started)
    started = time.perf_counter()
    out = subprocess.run(
        [BIN / "wangge", "token", "create", "demo-grid", "--name", "bench"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    token = out.stdout.strip().splitlines()[-1].strip()
    points = grid_points(5000)
    _phase("token for demo-grid, 5,000 points in its grid", started)

    port = free_port()
    log_path = data_dir / "serve.log"
    started = time.perf_counter()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [BIN / "wangge", "serve", "--bind", f"127.0.0.1:{port}"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(proc, port, token, 90)
        _phase(f"wangge serve answering on 127.0.0.1:{port}", started)
        expected = int(os.environ.get("WANGGE_WORKERS", "3"))
        booted, until = 0, time.monotonic() + 15
        while time.monotonic() < until:  # measure only once every worker has booted
            booted = log_path.read_text(errors="replace").count("Booting worker")
            if booted >= expected:
                break
            time.sleep(0.2)
        threads_per = os.environ.get("WANGGE_THREADS", "4")
        print(
            f"  server: gunicorn gthread, {booted} workers × {threads_per} threads "
            f"(WANGGE_WORKERS/WANGGE_THREADS, defaults 3/4); client: {args.threads} threads, "
            f"persistent HTTP/1.1 connections; {args.seconds:g} s per rate, open loop"
        )
        intake, limit = intake_request(token, points), limit_request(token)
        open_loop(port, intake, 20, 1, args.threads)  # warm-up, not reported
        open_loop(port, limit, 20, 1, args.threads)
        results: dict[float, tuple[Run, Run]] = {}
        for rate in args.rates:
            ours = open_loop(port, intake, rate, args.seconds, args.threads)
            floor = open_loop(port, limit, rate, args.seconds, args.threads)
            results[rate] = (ours, floor)
            print(f"\n  {rate:g} req/s, {int(rate * args.seconds):,} requests each")
            print(_line("intake", ours))
            print(_line("limit", floor) + f"   ← GET {LIMIT_PATH}")
            ratio = ours.pct(0.5) / floor.pct(0.5) if floor.pct(0.5) > 0 else float("nan")
            print(f"    ratio intake / limit p50 {ratio:6.1f}×")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    import sqlite3

    with sqlite3.connect(data_dir / "wangge.sqlite3") as db:
        events, ours, open_here = db.execute(
            "SELECT COUNT(*), SUM(title = 'bench'), SUM(grid_code = ? AND status = 'filed' "
            "AND category_id = (SELECT id FROM events_category WHERE code = '0102')) "
            "FROM events_event",
            [GRID],
        ).fetchone()
    print(
        f"\n  events at the end: {events:,} ({ours or 0:,} from this run; {open_here or 0:,} open "
        f"0102 events in grid {GRID}, which every report's duplicate search goes through)"
    )
    text = log_path.read_text(errors="replace")
    tracebacks = text.count("Traceback")
    server_errors = sum(1 for ln in text.splitlines() if '" 5' in ln and "HTTP/1.1" in ln)
    print(
        f"  server log: {tracebacks} tracebacks, {server_errors} 5xx responses"
        + ("" if not tracebacks else f" (see {log_path}; work dir kept)")
    )
    if tracebacks:
        args.keep = True
    print(f"  target: no errors and p99 < {TARGET_P99_MS:.0f} ms at {TARGET_RATE} req/s")
    if TARGET_RATE not in results:
        print(f"    not measured ({TARGET_RATE} is not among --rates)")
        return True
    ours = results[TARGET_RATE][0]
    ok = ours.errors == 0 and ours.pct(0.99) < TARGET_P99_MS
    print(
        f"    {'MET' if ok else 'MISSED'}: {ours.errors} errors, p99 {ours.pct(0.99):.1f} ms"
        f" at {TARGET_RATE} req/s"
    )
    return ok


# --- (b) indicators ---------------------------------------------------------------------------

COLUMNS = [
    "id", "title", "description", "channel", "status", "tier", "grid_code", "department_code",
    "lon", "lat", "address", "reporter_name", "reporter_phone", "created_at", "updated_at",
    "filed_at", "dispatched_at", "closed_at", "due_at", "handle_due_at", "handler_department",
    "no_return", "self_resolved", "parked_from", "supervised", "close_kind", "overdue",
    "on_time", "return_count", "rework_count", "extend_count", "park_count",
    "handling_seconds", "version", "category_id", "merged_into_id",
]  # fmt: skip

STATUS_MIX = [
    ("closed", 0.80), ("pending", 0.02), ("rejected", 0.02), ("merged", 0.01), ("filed", 0.03),
    ("dispatched", 0.03), ("handling", 0.04), ("returned", 0.01), ("parked", 0.01),
    ("verifying", 0.02), ("verified", 0.01),
]  # fmt: skip
DISPATCHED_ON = {"dispatched", "handling", "returned", "parked", "verifying", "verified", "closed"}


def synthetic_grids() -> list[str]:
    """190 grid codes under 440704: 3 streets × (7, 6, 6) communities × 10 grids."""
    codes = []
    for street, communities in ((1, 7), (2, 6), (3, 6)):
        for community in range(1, communities + 1):
            for grid in range(1, 11):
                codes.append(f"440704{street:03d}{community:03d}{grid:03d}")
    return codes


def synthetic_rows(n: int, categories: list[tuple[int, str]], tz: str, seed: int = 11) -> Any:
    """Rows for COLUMNS, created over 6 months in id order; yields lists of up to 100,000."""
    import numpy as np

    rng = np.random.default_rng(seed)
    grids = np.array(synthetic_grids(), dtype=object)
    names = np.array([s for s, _w in STATUS_MIX], dtype=object)
    probs = np.array([w for _s, w in STATUS_MIX])
    probs /= probs.sum()
    cat_ids = np.array([c for c, _d in categories])
    cat_depts = np.array([d for _c, d in categories], dtype=object)
    base = np.datetime64("2025-01-01T00:00:00", "s")
    span = 182 * 86400

    def stamps(seconds: Any) -> list[str]:
        text = np.datetime_as_string(base + seconds.astype("timedelta64[s]"), unit="s")
        return [f"{t[:10]} {t[11:]}{tz}" for t in text.tolist()]

    def maybe(values: list[Any], keep: list[bool]) -> list[Any]:
        return [v if k else None for v, k in zip(values, keep, strict=True)]

    for first in range(1, n + 1, 100_000):
        ids = np.arange(first, min(first + 100_000, n + 1))
        m = len(ids)
        created_s = span * (ids - 1) // n
        status = names[rng.choice(len(names), size=m, p=probs)]
        if first == 1 and status[0] == "merged":
            status[0] = "closed"
        cat = rng.integers(len(categories), size=m)
        handled = np.isin(status, list(DISPATCHED_ON))
        handler = np.where(handled & (rng.random(m) < 0.8), cat_depts[cat], "")
        dispatched_now = np.isin(status, ["dispatched", "handling"])
        closed = status == "closed"
        closed_l = closed.tolist()
        handling = rng.integers(600, 10 * 86400, size=m, endpoint=True)
        created = stamps(created_s)
        due = stamps(created_s + 86400)
        columns: list[Any] = [
            ids.tolist(), itertools.repeat("bench"), itertools.repeat(""),
            itertools.repeat("patrol"), status.tolist(), itertools.repeat(0),
            grids[rng.integers(len(grids), size=m)].tolist(),
            np.where(dispatched_now, handler, "").tolist(),
            itertools.repeat(None), itertools.repeat(None), itertools.repeat(""),
            itertools.repeat(""), itertools.repeat(""), created, created,
            maybe(created, (status != "pending").tolist()),
            maybe(created, (handler != "").tolist()),
            maybe(stamps(created_s + handling + 1800), closed_l),
            due, due, handler.tolist(), itertools.repeat(0),
            (handled & (handler == "")).astype(int).tolist(), itertools.repeat(""),
            itertools.repeat(0), np.where(closed, "normal", "").tolist(),
            (rng.random(m) < 0.1).astype(int).tolist(),
            maybe((rng.random(m) < 0.85).astype(int).tolist(), closed_l),
            (rng.random(m) < 0.05).astype(int).tolist(),
            (rng.random(m) < 0.03).astype(int).tolist(),
            (rng.random(m) < 0.04).astype(int).tolist(),
            (rng.random(m) < 0.02).astype(int).tolist(),
            maybe(handling.tolist(), closed_l), itertools.repeat(0),
            cat_ids[cat].tolist(), maybe([1] * m, (status == "merged").tolist()),
        ]  # fmt: skip
        yield list(zip(*columns, strict=False))


def handwritten_sql(by: str, status_list: list[str], vendor: str) -> tuple[str, list[Any]]:
    width = {"department": None, "street": 9, "community": 12, "grid": 15}[by]
    substr = "substr" if vendor == "sqlite" else "substring"
    key = "handler_department" if width is None else f"{substr}(grid_code, 1, {width})"
    marks = ", ".join(["%s"] * len(status_list))
    sql = f"""
        SELECT {key} AS k,
               COUNT(*),
               SUM(CASE WHEN status = 'closed' THEN 1 ELSE 0 END),
               SUM(CASE WHEN status = 'closed' AND on_time THEN 1 ELSE 0 END),
               SUM(CASE WHEN overdue THEN 1 ELSE 0 END),
               SUM(CASE WHEN return_count > 0 THEN 1 ELSE 0 END),
               SUM(CASE WHEN rework_count > 0 THEN 1 ELSE 0 END),
               SUM(CASE WHEN extend_count > 0 THEN 1 ELSE 0 END),
               SUM(CASE WHEN park_count > 0 THEN 1 ELSE 0 END),
               AVG(handling_seconds)
        FROM events_event
        WHERE status IN ({marks})
        GROUP BY 1
        ORDER BY 1
    """
    return sql, list(status_list)


INDICATOR_FIELDS = (
    "should_close", "closed", "closed_on_time", "overdue", "returned", "reworked", "extended",
    "parked", "avg_handling_hours",
)  # fmt: skip


def _comparable_orm(rows: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    return {r["key"]: tuple(r[n] for n in INDICATOR_FIELDS) for r in rows}


def _comparable_sql(rows: list[tuple[Any, ...]]) -> dict[str, tuple[Any, ...]]:
    out = {}
    for key, *counts, avg in rows:
        hours = round(float(avg) / 3600, 1) if avg is not None else None
        out[key or ""] = (*(int(c) for c in counts), hours)
    return out


def _best(fn: Any, repeat: int = 3) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def indicators_child(database_url: str, data_dir: str, n: int, label: str) -> int:
    """In a fresh process: migrate, bulk-insert n events, ANALYZE, time and compare."""
    os.environ.update(
        {
            "WANGGE_DATA_DIR": data_dir,
            "WANGGE_DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "wangge.settings",
            "WANGGE_LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from wangge.core.scope import Scope
    from wangge.events import selectors
    from wangge.events.models import Category

    vendor = connection.vendor
    print(f"\n== (b) indicators over {n:,} events, {label}", flush=True)
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    _phase("migrate", started)
    categories = [
        (pk, dept or "")
        for pk, dept in Category.objects.filter(parent__isnull=False).values_list(
            "pk", "department__code"
        )
    ]
    started = time.perf_counter()
    if vendor == "sqlite":
        import sqlite3

        connection.close()
        db = sqlite3.connect(str(connection.settings_dict["NAME"]), isolation_level=None)
        # Load as one bulk transaction without a journal, secondary indexes built afterwards
        # (the same final table and indexes; only the load is faster), then back to WAL.
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA cache_size=-262144")
        indexes = [
            (name, ddl)
            for name, ddl in db.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name = 'events_event' AND sql IS NOT NULL"
            )
        ]
        sql = (
            f"INSERT INTO events_event ({', '.join(COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(COLUMNS))})"
        )
        db.execute("BEGIN")
        for name, _ddl in indexes:
            db.execute(f'DROP INDEX "{name}"')
        for batch in synthetic_rows(n, categories, ""):
            db.executemany(sql, batch)
        for _name, ddl in indexes:
            db.execute(ddl)
        db.execute("COMMIT")
        db.execute("PRAGMA journal_mode=WAL")
        db.close()
    else:
        import psycopg

        url = database_url.replace("postgres://", "postgresql://", 1)
        with psycopg.connect(url) as pg, pg.cursor() as cur:
            cur.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events_event' "
                "AND indexdef NOT LIKE 'CREATE UNIQUE%'"
            )
            indexes = cur.fetchall()
            for name, _ddl in indexes:
                cur.execute(f'DROP INDEX "{name}"')
            with cur.copy(f"COPY events_event ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for batch in synthetic_rows(n, categories, "+00"):
                    for row in batch:
                        copy.write_row(row)
            pg.commit()  # the deferred foreign-key checks run here
            for _name, ddl in indexes:
                cur.execute(ddl)
            cur.execute(
                "SELECT setval(pg_get_serial_sequence('events_event', 'id'), %s)", [max(n, 1)]
            )
    _phase(f"generate + bulk insert ({'executemany' if vendor == 'sqlite' else 'COPY'})", started)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    _phase("ANALYZE", started)

    actor = Scope.system("bench")
    all_same = True
    worst = 0.0
    print(f"  {'by':<11} {'groups':>6} {'selector':>10} {'hand SQL':>10} {'ratio':>7}  same")
    for by in ("department", "street", "community", "grid"):
        orm_s, orm_rows = _best(lambda by=by: list(selectors.indicators(actor=actor, by=by)))
        sql, params = handwritten_sql(by, list(selectors.SHOULD_CLOSE), vendor)

        def hand(sql: str = sql, params: list[Any] = params) -> list[tuple[Any, ...]]:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return list(cursor.fetchall())

        sql_s, sql_rows = _best(hand)
        same = _comparable_orm(orm_rows) == _comparable_sql(sql_rows)
        all_same &= same
        ratio = orm_s / sql_s
        worst = max(worst, ratio)
        print(
            f"  {by:<11} {len(orm_rows):6d} {orm_s * 1000:8.0f} ms {sql_s * 1000:7.0f} ms "
            f"{ratio:6.2f}×  {'yes' if same else 'NO'}"
        )
        if not same:
            a, b = _comparable_orm(orm_rows), _comparable_sql(sql_rows)
            diff = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)][:3]
            for k in diff:
                print(f"      {k!r}: selector {a.get(k)} vs SQL {b.get(k)}")
    total = selectors.indicators_total(selectors.indicators(actor=actor, by="street"))
    print(
        f"  totals: should-close {total['should_close']:,}, closed {total['closed']:,}, "
        f"结案率 {total['close_rate']}, 按期结案率 {total['on_time_rate']}"
    )
    print(f"  identical results: {'yes' if all_same else 'no'}")
    ok = all_same and worst <= 2.0
    print(
        f"  target: indicator queries within 2× the hand-written SQL → "
        f"{'MET' if ok else 'MISSED'} (worst {worst:.2f}×)"
    )
    return 0 if ok else 1


def indicators_benchmark(args: argparse.Namespace, work: Path) -> bool:
    def child(url: str, data_dir: Path, label: str) -> bool:
        data_dir.mkdir()
        env = {**os.environ}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        cmd = [sys.executable, __file__, "--_indicators", url, str(data_dir)]
        cmd += [str(args.events), label]
        return subprocess.call(cmd, env=env) == 0

    sqlite_dir = work / "indicators-sqlite"
    ok = child(f"sqlite:///{sqlite_dir / 'wangge.sqlite3'}", sqlite_dir, "SQLite")
    if args.no_postgres:
        return ok
    try:
        import psycopg

        admin = psycopg.connect(args.postgres.replace("postgres://", "postgresql://", 1))
        admin.autocommit = True
    except Exception as exc:
        print(f"\n== (b) PostgreSQL: not reachable at {args.postgres} ({exc}); skipped")
        return ok
    name = f"wangge_bench_events_{os.getpid()}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"{args.postgres.rsplit('/', 1)[0]}/{name}"
        ok &= child(url, work / "indicators-pg", "PostgreSQL")
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    return ok


def main() -> int:
    if len(sys.argv) == 6 and sys.argv[1] == "--_indicators":
        return indicators_child(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    parser = argparse.ArgumentParser()
    parser.add_argument("--rates", default="50,100,200", help="requests/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="held per rate")
    parser.add_argument("--threads", type=int, default=64, help="load generator threads")
    parser.add_argument("--events", type=int, default=1_000_000, help="events for (b)")
    parser.add_argument("--postgres", default=os.environ.get("WANGGE_BENCH_PG", PG_DEFAULT))
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-http", action="store_true", help="skip (a)")
    parser.add_argument("--no-indicators", action="store_true", help="skip (b)")
    args = parser.parse_args()
    args.rates = [float(r) for r in args.rates.split(",") if r.strip()]
    args.keep = False
    work = Path(tempfile.mkdtemp(prefix="wangge-bench-events-"))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"events benchmark — {os.cpu_count()} cores (load average {load}), work dir {work}")
    started = time.perf_counter()
    ok = True
    try:
        if not args.no_http:
            ok &= intake_benchmark(args, work)
        if not args.no_indicators:
            ok &= indicators_benchmark(args, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    goals = []
    if not args.no_http:
        goals.append(f"intake: no errors, p99 < {TARGET_P99_MS:.0f} ms at {TARGET_RATE} req/s")
    if not args.no_indicators:
        goals.append("indicators within 2× hand-written SQL, identical results")
    print("TARGET", "MET" if ok else "MISSED", f"({'; '.join(goals)})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
