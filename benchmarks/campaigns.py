"""Campaigns (采集核查专项行动), three measurements, each beside the obvious alternative:

(a) The task package of a 1,500-person grid (500 households): its bytes (gzip) and the time to
    build and fetch it, against the same people through the people list API page by page
    (`GET /api/v1/people?grid=…&after=…`, keyset pagination; at its default page size of 50 and
    at its largest, 500), on SQLite and PostgreSQL. Both through the Django test client with a
    bearer token (the whole request: middleware, authentication, scope, serialisation). When
    `/api/v1/campaign-tasks/{id}/package` is not on this branch yet, the package side is the
    selector plus what the endpoint adds (JSON, gzip) plus one authenticated request's cost.
(b) 500 field edits with version checks sent as one batch (`POST …/campaign-tasks/{id}/edits`)
    against one request each: a field mix (90% confirmations, 10% corrections) against one
    edit per request to the same endpoint, and 500 corrections against the ledger's own
    `PATCH /api/v1/people/{id}` one by one (each with its version). Without the endpoint the
    batch side calls `apply_edits` plus one request's cost, the one-by-one side the same per
    edit.
(c) Progress of a city: 3,000 grids and 5M task records (PostgreSQL; the rows generated in the
    database with generate_series), `selectors.progress` against hand-written GROUP BY SQL
    (same answer checked).

Run:  .venv/bin/python benchmarks/campaigns.py [--quick] [--records N] [--grids N]
          [--postgres URL | --no-postgres]
`--quick`: 300 people per grid, 100 edits, 200,000 records (a check in about a minute).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from django_setup import setup_django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_DEFAULT = "postgres://postgres@127.0.0.1:5432/postgres"
GRID = "440704003001001"  # demo-grid's grid in the test world
TARGET_PACKAGE = 5.0
TARGET_BATCH = 10.0
TARGET_PROGRESS = 1.5


def _verdict(ok: bool) -> str:
    return "TARGET MET" if ok else "TARGET MISSED"


def _best(fn: Any, repeat: int = 3) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


# --- the big grid -------------------------------------------------------------------------------


def _ids(n: int) -> list[str]:
    from wangge.core.validators import id_check_char

    out = []
    for i in range(n):
        birth = f"19{50 + i % 50:02d}{1 + i % 12:02d}{1 + i % 28:02d}"
        first17 = f"440704{birth}{i // 1000 % 10}{i % 100:02d}"[:17]
        value = first17 + id_check_char(first17)
        out.append(value)
    return out


def big_grid(people: int) -> None:
    """`people` people in `people / 3` households (one per room) in demo-grid's grid, written
    in bulk (setup, not measured)."""
    from django.db import transaction

    from wangge.ledger.importers import person_id_index, phone_index
    from wangge.ledger.models import Building, Estate, Household, Person, Room

    households = people // 3
    with transaction.atomic():
        estate = Estate.objects.create(code=f"{GRID[:12]}901", name="基准小区", grid_code=GRID)
        buildings = Building.objects.bulk_create(
            Building(
                code=f"{estate.code}{b + 1:03d}",
                estate=estate,
                name=f"{b + 1}栋",
                address=f"基准小区{b + 1}栋",
                grid_code=GRID,
                units=2,
                lon=113.1 + b / 10_000,
                lat=22.5,
            )
            for b in range(max(1, households // 50))
        )
        rooms = Room.objects.bulk_create(
            Room(
                code=f"{buildings[i // 50].code}{1 + i % 2:02d}{100 + i % 50 // 2 + 1:04d}",
                building=buildings[i // 50 % len(buildings)],
                unit=1 + i % 2,
                floor=1 + i % 50 // 4,
                number=f"{100 + i % 50 // 2 + 1}",
                grid_code=GRID,
            )
            for i in range(households)
        )
        homes = Household.objects.bulk_create(
            Household(code=f"HB{GRID}{i:05d}", grid_code=GRID, room=rooms[i])
            for i in range(households)
        )
        ids = _ids(people)
        relations = ["户主", "配偶", "子女"]
        persons = Person.objects.bulk_create(
            (
                Person(
                    grid_code=GRID,
                    name=f"基准{i:04d}",
                    gender="male" if i % 2 else "female",
                    id_number=ids[i],
                    id_index=person_id_index(ids[i]),
                    phone=f"139{i:08d}",
                    phone_index=phone_index(f"139{i:08d}"),
                    room=rooms[i // 3 % households],
                    household=homes[i // 3 % households],
                    relation=relations[i % 3],
                    occupation="务工",
                )
                for i in range(people)
            ),
            batch_size=1000,
        )
        for h, p in zip(homes, persons[::3], strict=False):
            h.head = p
        Household.objects.dangerously_unscoped().bulk_update(homes, ["head"], batch_size=1000)


def _client(username: str) -> Any:
    from django.test import Client

    from wangge.core.models import User
    from wangge.core.scope import Scope
    from wangge.core.services import token_create

    _t, plain = token_create(
        actor=Scope.system("bench"), user=User.objects.get(username=username), name="bench"
    )
    return Client(headers={"Authorization": f"Bearer {plain}"})


def _route(path: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(path)
        return True
    except Resolver404:
        return False


# --- (a) the package ----------------------------------------------------------------------------


def package_child(database_url: str, data_dir: str, label: str, people: int) -> dict[str, Any]:
    setup_django(database_url, data_dir)
    import datetime as dt

    from django.core.serializers.json import DjangoJSONEncoder
    from django.db import connection
    from django.utils import timezone

    from tests import world
    from wangge.campaigns import selectors, services
    from wangge.campaigns.models import Task
    from wangge.core.models import User
    from wangge.core.scope import Scope, scope_for

    started = time.perf_counter()
    world.build()
    big_grid(people)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"  [{label}] setup: {time.perf_counter() - started:.1f} s", flush=True)
    today = timezone.localdate()
    system = Scope.system("bench")
    results: dict[str, Any] = {"label": label}
    client = _client("demo-grid")
    me = scope_for(User.objects.get(username="demo-grid"))
    request_cost, _r = _best(lambda: client.get("/api/v1/me"), 5)

    def campaign(kinds: list[str]) -> Task:
        c = services.campaign_create(
            actor=system,
            name=f"基准 {'+'.join(kinds)}",
            template="basic",
            regions=[GRID],
            start=today - dt.timedelta(days=1),
            end=today + dt.timedelta(days=30),
            kinds=kinds,
        )
        return Task.objects.dangerously_unscoped().get(campaign=c)

    http = None
    for kinds in (["person"], ["person", "household"]):
        task = campaign(kinds)
        path = f"/api/v1/campaign-tasks/{task.pk}/package"
        if http is None:
            http = _route(path)
        if http:

            def fetch(path: str = path) -> tuple[int, int]:
                response = client.get(path, HTTP_ACCEPT_ENCODING="gzip")
                assert response.status_code == 200, response.status_code
                body = response.content
                raw = len(gzip.decompress(body)) if response.get("Content-Encoding") else len(body)
                return len(body), raw

            seconds, (compressed, raw) = _best(fetch)
        else:

            def build(task: Task = task) -> tuple[int, int]:
                data = selectors.task_package(actor=me, task_id=task.pk)
                raw = json.dumps(
                    data, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")
                ).encode()
                return len(gzip.compress(raw, compresslevel=6)), len(raw)

            seconds, (compressed, raw) = _best(build)
            seconds += request_cost
        results["+".join(kinds)] = {"seconds": seconds, "bytes": compressed, "raw": raw}
    results["http"] = bool(http)
    for limit in (50, 500):

        def pages(limit: int = limit) -> tuple[int, int, int, int]:
            after, n, requests, compressed, raw = None, 0, 0, 0, 0
            while True:
                url = f"/api/v1/people?grid={GRID}&limit={limit}"
                if after:
                    url += f"&after={after}"
                response = client.get(url)
                assert response.status_code == 200, response.content[:200]
                requests += 1
                raw += len(response.content)
                compressed += len(gzip.compress(response.content, compresslevel=6))
                page = response.json()
                n += len(page["items"])
                after = page["next_after"]
                if after is None:
                    return n, requests, compressed, raw

        seconds, (n, requests, compressed, raw) = _best(pages)
        results[f"pages{limit}"] = {
            "seconds": seconds,
            "bytes": compressed,
            "raw": raw,
            "requests": requests,
            "people": n,
        }
    return results


# --- (b) a batch of edits -----------------------------------------------------------------------


def edits_child(database_url: str, data_dir: str, label: str, people: int, n: int) -> dict:
    setup_django(database_url, data_dir)
    import datetime as dt
    import uuid

    from django.utils import timezone

    from tests import world
    from wangge.campaigns import edits, services
    from wangge.campaigns.models import Task
    from wangge.core.models import User
    from wangge.core.scope import Scope, scope_for
    from wangge.ledger.models import Person

    world.build()
    big_grid(people)
    today = timezone.localdate()
    system = Scope.system("bench")
    client = _client("demo-grid")
    me = scope_for(User.objects.get(username="demo-grid"))
    request_cost, _r = _best(lambda: client.get("/api/v1/me"), 5)

    def task() -> Task:
        c = services.campaign_create(
            actor=system,
            name="基准",
            template="basic",
            regions=[GRID],
            start=today - dt.timedelta(days=1),
            end=today + dt.timedelta(days=30),
            kinds=["person"],
        )
        return Task.objects.dangerously_unscoped().get(campaign=c)

    def batch(records: list[Any], *, corrections: float, device: str) -> list[dict]:
        out = []
        for i, p in enumerate(records):
            correct = i % round(1 / corrections) == 0 if corrections else False
            out.append(
                {
                    "key": uuid.uuid4().hex,
                    "op": "correct" if correct else "confirm",
                    "kind": "person",
                    "record_id": p.pk,
                    "base_version": p.version,
                    "device": device,
                    "seq": i + 1,
                    "made_at": timezone.now().isoformat(),
                    "values": {"fields": {"occupation": f"工种{i}"}} if correct else {},
                }
            )
        return out

    everyone = list(Person.objects.dangerously_unscoped().filter(grid_code=GRID).order_by("id"))
    first, second, third = everyone[:n], everyone[n : 2 * n], everyone[2 * n : 3 * n]
    probe = task()
    http = _route(f"/api/v1/campaign-tasks/{probe.pk}/edits")

    def send(task_id: int, items: list[dict]) -> None:
        if http:
            response = client.post(
                f"/api/v1/campaign-tasks/{task_id}/edits",
                data=json.dumps({"edits": items}),
                content_type="application/json",
            )
            assert response.status_code == 200, response.content[:300]
            statuses = {r["status"] for r in response.json()["results"]}
        else:
            client.get("/api/v1/me")  # one request's cost
            statuses = {
                r["status"]
                for r in edits.apply_edits(actor=me, task_id=task_id, edits=items)["results"]
            }
        assert statuses == {"applied"}, statuses

    results: dict[str, Any] = {"label": label, "http": http, "n": n}
    # the field's mix: one batch, then one edit per request (fresh tasks and records each)
    t = task()
    items = batch(first, corrections=0.1, device="a")
    started = time.perf_counter()
    send(t.pk, items)
    results["mix_batch"] = time.perf_counter() - started
    t = task()
    items = batch(second, corrections=0.1, device="b")
    started = time.perf_counter()
    for item in items:
        send(t.pk, [item])
    results["mix_each"] = time.perf_counter() - started
    # corrections only: one batch against the ledger's PATCH one by one
    t = task()
    for p in third:
        p.refresh_from_db(fields=["version"])
    items = batch(third, corrections=1.0, device="c")
    started = time.perf_counter()
    send(t.pk, items)
    results["correct_batch"] = time.perf_counter() - started
    started = time.perf_counter()
    for p in first:
        p.refresh_from_db(fields=["version"])
    refreshed = time.perf_counter() - started
    started = time.perf_counter()
    for p in first:
        response = client.patch(
            f"/api/v1/people/{p.pk}",
            data=json.dumps({"version": p.version, "occupation": "渔民"}),
            content_type="application/json",
        )
        assert response.status_code == 200, response.content[:300]
    results["correct_patch"] = time.perf_counter() - started
    del refreshed
    results["request_cost"] = request_cost
    return results


# --- (c) progress of a city -----------------------------------------------------------------------

GRID_SQL = (
    "'4407' || lpad(((g / 1000) + 1)::text, 2, '0') || lpad(((g / 100) %% 10 + 1)::text, 3, '0')"
    " || lpad(((g / 10) %% 10 + 1)::text, 3, '0') || lpad((g %% 10 + 1)::text, 3, '0')"
)


def progress_child(database_url: str, data_dir: str, grids: int, records: int) -> dict:
    setup_django(database_url, data_dir)
    from django.db import connection

    from wangge.campaigns import selectors
    from wangge.campaigns.models import Campaign, Template
    from wangge.core.scope import Scope

    per_grid = records // grids
    started = time.perf_counter()
    template = Template.objects.get(code="basic")
    campaign = Campaign.objects.create(
        name="全市基础信息采集核查",
        template=template,
        spec=template.spec,
        region_code="4407",
        regions=["4407"],
        kinds=template.spec["kinds"],
        start=dt.date(2026, 11, 1),
        end=dt.date(2026, 12, 31),
    )
    kinds = "ARRAY['person','person','person','household','room','room','organisation','thing']"
    statuses = (
        "ARRAY['pending','pending','confirmed','confirmed','confirmed','confirmed','confirmed',"
        "'confirmed','corrected','retired','added','conflict']"
    )
    states = "ARRAY['assigned','in_progress','in_progress','submitted','approved','approved']"
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO campaigns_task (campaign_id, grid_code, title, state, version,"
            " team_assigned, spot_check, returned_reason, returns, overdue_notified, updated_at)"
            f" SELECT %s, {GRID_SQL}, '网格' || g, ({states})[1 + g %% 6], 1, true, false, '', 0,"
            " false, now() FROM generate_series(0, %s) AS g",
            [campaign.pk, grids - 1],
        )
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'campaigns_taskrecord'"
            " AND indexdef NOT LIKE 'CREATE UNIQUE%%'"
        )
        indexes = cur.fetchall()
        for name, _ddl in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        cur.execute(
            "INSERT INTO campaigns_taskrecord (task_id, campaign_id_copy, grid_code, kind,"
            " record_id, sort_key, status, outcome, checked_version)"
            " SELECT t.id, t.campaign_id, t.grid_code, (" + kinds + ")[1 + i %% 8], i, '',"
            " (" + statuses + ")[1 + (i * 7 + t.id) %% 12],"
            " CASE WHEN i %% 8 = 3 THEN (ARRAY['visited','visited','nobody_home','refused',"
            "'vacant',''])[1 + (i / 8) %% 6] ELSE '' END, NULL"
            " FROM campaigns_task t CROSS JOIN generate_series(1, %s) AS i"
            " WHERE t.campaign_id = %s",
            [per_grid, campaign.pk],
        )
        for _name, ddl in indexes:
            cur.execute(ddl)
        cur.execute("ANALYZE")
    setup = time.perf_counter() - started
    total = grids * per_grid
    print(f"  [setup] {grids:,} grids, {total:,} task records: {setup:.0f} s", flush=True)
    system = Scope.system("bench")

    def selector(level: str) -> Any:
        return selectors.progress(actor=system, campaign=campaign, level=level)

    def hand() -> dict[str, Any]:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT t.state, count(*) FROM campaigns_task t WHERE t.campaign_id = %s AND"
                " NOT EXISTS (SELECT 1 FROM campaigns_task p WHERE p.parent_id = t.id)"
                " GROUP BY t.state",
                [campaign.pk],
            )
            states = dict(cur.fetchall())
            cur.execute(
                "SELECT kind, status, outcome, count(*) FROM campaigns_taskrecord"
                " WHERE campaign_id_copy = %s GROUP BY kind, status, outcome",
                [campaign.pk],
            )
            rows = cur.fetchall()
            cur.execute(
                "SELECT count(*) FROM campaigns_fieldedit e JOIN campaigns_task t"
                " ON t.id = e.task_id WHERE t.campaign_id = %s AND e.status = 'conflict'",
                [campaign.pk],
            )
            conflicts = cur.fetchone()[0]
        return {"states": states, "rows": rows, "conflicts": conflicts}

    def hand_grid() -> list[Any]:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT grid_code, kind, status, outcome, count(*) FROM campaigns_taskrecord"
                " WHERE campaign_id_copy = %s GROUP BY grid_code, kind, status, outcome",
                [campaign.pk],
            )
            return cur.fetchall()

    out: dict[str, Any] = {"grids": grids, "records": total, "setup": setup}
    s_total, got = _best(lambda: selector(""))
    h_total, want = _best(hand)
    same = got["tasks"] == sum(want["states"].values()) and sum(
        c["total"] for c in got["records"].values()
    ) == sum(r[3] for r in want["rows"])
    out["total"] = (s_total, h_total, same)
    s_grid, got_grid = _best(lambda: selector("grid"))
    h_grid, want_grid = _best(hand_grid)
    same_grid = len(got_grid["rows"]) == len({r[0] for r in want_grid})
    out["grid"] = (s_grid, h_grid, same_grid)
    return out


# --- the parent ---------------------------------------------------------------------------------


def _child(*args: str) -> dict[str, Any]:
    env = {**os.environ}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    output = subprocess.run(
        [sys.executable, __file__, "--_child", *args], env=env, stdout=subprocess.PIPE, text=True
    )
    lines = output.stdout.strip().splitlines()
    for line in lines[:-1]:
        print(line, flush=True)
    if output.returncode != 0 or not lines:
        raise RuntimeError(f"benchmark child failed: {args[:2]}")
    return json.loads(lines[-1])


def _databases(args: argparse.Namespace, work: Path, tag: str) -> Any:
    """(label, url, data dir) for SQLite and, if reachable, a throwaway PostgreSQL database."""
    sqlite_dir = work / f"{tag}-sqlite"
    sqlite_dir.mkdir()
    yield "SQLite", f"sqlite:///{sqlite_dir / 'wangge.sqlite3'}", str(sqlite_dir)
    if args.no_postgres:
        return
    with _pg_database(args, tag) as url:
        if url:
            pg_dir = work / f"{tag}-pg"
            pg_dir.mkdir()
            yield "PostgreSQL", url, str(pg_dir)


class _pg_database:
    def __init__(self, args: argparse.Namespace, tag: str) -> None:
        self.args, self.name, self.admin = args, f"wangge_bench_campaigns_{tag}_{os.getpid()}", None

    def __enter__(self) -> str | None:
        try:
            import psycopg

            self.admin = psycopg.connect(
                self.args.postgres.replace("postgres://", "postgresql://", 1), autocommit=True
            )
        except Exception as exc:
            print(f"  PostgreSQL not reachable at {self.args.postgres} ({exc}); skipped")
            return None
        self.admin.execute(f'CREATE DATABASE "{self.name}"')
        return f"{self.args.postgres.rsplit('/', 1)[0]}/{self.name}"

    def __exit__(self, *exc: Any) -> None:
        if self.admin is not None:
            self.admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            self.admin.close()


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--_child":
        kind, url, data_dir, *rest = sys.argv[2:]
        if kind == "package":
            result = package_child(url, data_dir, rest[0], int(rest[1]))
        elif kind == "edits":
            result = edits_child(url, data_dir, rest[0], int(rest[1]), int(rest[2]))
        else:
            result = progress_child(url, data_dir, int(rest[0]), int(rest[1]))
        print(json.dumps(result))
        return 0
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sizes, a fast check")
    parser.add_argument("--people", type=int, default=None, help="people in the grid (1500)")
    parser.add_argument("--edits", type=int, default=None, help="edits in the batch (500)")
    parser.add_argument("--grids", type=int, default=3000)
    parser.add_argument("--records", type=int, default=None, help="task records (5,000,000)")
    parser.add_argument("--postgres", default=os.environ.get("WANGGE_BENCH_PG", PG_DEFAULT))
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--only", default="abc", help="which of a, b, c to run")
    args = parser.parse_args()
    people = args.people or (300 if args.quick else 1500)
    n_edits = args.edits or (100 if args.quick else 500)
    records = args.records or (200_000 if args.quick else 5_000_000)
    work = Path(tempfile.mkdtemp(prefix="wangge-bench-campaigns-"))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"campaigns benchmark — {os.cpu_count()} cores (load average {load}), work dir {work}")
    ok = True
    started = time.perf_counter()
    try:
        if "a" in args.only:
            print(
                f"\n== (a) the task package of a grid of {people:,} people, "
                f"{people // 3:,} households, against the people list API page by page"
            )
            for label, url, data_dir in _databases(args, work, "a"):
                r = _child("package", url, data_dir, label, str(people))
                pkg = r["person"]
                both = r["person+household"]
                how = "GET …/package" if r["http"] else "selector + JSON + gzip + 1 request"
                print(
                    f"  {label}: package ({how}) {pkg['bytes'] / 1000:7.1f} kB gzip "
                    f"({pkg['raw'] / 1000:.0f} kB JSON) in {pkg['seconds'] * 1000:6.0f} ms;"
                    f" with the households {both['bytes'] / 1000:.1f} kB in "
                    f"{both['seconds'] * 1000:.0f} ms"
                )
                for limit in (50, 500):
                    p = r[f"pages{limit}"]
                    t_ratio, b_ratio = p["seconds"] / pkg["seconds"], p["bytes"] / pkg["bytes"]
                    met = t_ratio >= TARGET_PACKAGE
                    if limit == 50:
                        ok &= met
                    print(
                        f"    people API, {limit:3d} a page: {p['requests']:3d} requests, "
                        f"{p['bytes'] / 1000:7.1f} kB gzip, {p['seconds'] * 1000:6.0f} ms → "
                        f"package {t_ratio:5.1f}× faster, {b_ratio:4.1f}× smaller"
                        + (
                            f"   {_verdict(met)} (≥ {TARGET_PACKAGE:.0f}× at the default page size)"
                            if limit == 50
                            else "   (the largest page: info)"
                        )
                    )
        if "b" in args.only:
            print(
                f"\n== (b) {n_edits} field edits with version checks: one batch against "
                "one request each"
            )
            for label, url, data_dir in _databases(args, work, "b"):
                r = _child("edits", url, data_dir, label, str(people), str(n_edits))
                how = "POST …/edits" if r["http"] else "apply_edits + 1 request's cost"
                mix = r["mix_each"] / r["mix_batch"]
                met = mix >= TARGET_BATCH
                ok &= met
                print(
                    f"  {label} ({how}): field mix (90% confirm, 10% correct): batch "
                    f"{r['mix_batch'] * 1000:6.0f} ms, one each {r['mix_each'] * 1000:7.0f} ms"
                    f" → {mix:5.1f}×   {_verdict(met)} (≥ {TARGET_BATCH:.0f}×)"
                )
                cor = r["correct_patch"] / r["correct_batch"]
                print(
                    f"  {label}: corrections only: batch {r['correct_batch'] * 1000:6.0f} ms,"
                    f" PATCH /api/v1/people/{{id}} one each {r['correct_patch'] * 1000:7.0f} ms"
                    f" → {cor:5.1f}×   (info: each correction is a ledger write either way)"
                )
        if "c" in args.only:
            print(
                f"\n== (c) progress of a city: {args.grids:,} grids, {records:,} task records "
                "(PostgreSQL), the selector against hand-written GROUP BY"
            )
            args_c = argparse.Namespace(**{**vars(args), "no_postgres": False})
            with _pg_database(args_c, "c") as url:
                if url is None:
                    print("  skipped: no PostgreSQL")
                else:
                    pg_dir = work / "c-pg"
                    pg_dir.mkdir()
                    r = _child("progress", url, str(pg_dir), str(args.grids), str(records))
                    for name, title in (("total", "totals"), ("grid", "per grid")):
                        s, h, same = r[name]
                        ratio = s / h
                        met = ratio <= TARGET_PROGRESS and same
                        ok &= met
                        print(
                            f"  {title:9s}: selector {s * 1000:7.0f} ms, hand SQL "
                            f"{h * 1000:7.0f} ms → {ratio:4.2f}×, same answer: "
                            f"{'yes' if same else 'NO'}   {_verdict(met)} "
                            f"(≤ {TARGET_PROGRESS}×)"
                        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    print("TARGET", "MET" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
