"""Restructuring a grid of realistic size: the dry run and the apply of a split, beside the
floor — the same records moved by bare UPDATEs with nothing checked, logged or audited.

The test world's 英南村第1网格 gets `--people` residents in a thousandth as many buildings
(three people to a room), spread over the grid, and `--events` events in every status; it is
then split in two halves. The restructure plans the regions (the import's topology checks),
places every record by its building's point, closes and opens the team's assignments, moves
open events with a log line each, writes a change-log row per ledger record and the audit
entries — in one transaction.

Run:  .venv/bin/python benchmarks/restructure.py [--people 3000] [--events 600]
      [--database-url postgres://…]   (default: a fresh SQLite data dir)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

from django_setup import setup_django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class Box(NamedTuple):
    """The grid's bounding box: where the generated points fall and where it is cut."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


GRID = "440704003001001"
EAST = "440704003001006"


def _halves() -> tuple[bytes, Box]:
    from wangge.regions.models import Boundary
    from wangge.regions.tests.factories import box

    b = Boundary.objects.dangerously_unscoped().get(region__code=GRID, valid_to=None)
    middle = (b.min_lon + b.max_lon) / 2
    features = [
        {
            "type": "Feature",
            "properties": {"code": code, "name": name},
            "geometry": box(x0, b.min_lat, x1, b.max_lat),
        }
        for code, name, x0, x1 in (
            (GRID, "英南村第1网格", b.min_lon, middle),
            (EAST, "英南村第6网格", middle, b.max_lon),
        )
    ]
    bounds = Box(b.min_lon, b.min_lat, b.max_lon, b.max_lat)
    return json.dumps({"type": "FeatureCollection", "features": features}).encode(), bounds


def _populate(people: int, events: int, bounds: Box, rng: random.Random) -> None:
    from wangge.events.models import Event
    from wangge.events.tests.factories import history
    from wangge.ledger.models import Building, Person, Room
    from wangge.ledger.tests import factories as lf

    b = bounds

    def point() -> tuple[float, float]:
        return (
            rng.uniform(b.min_lon + 1e-6, b.max_lon - 1e-6),
            rng.uniform(b.min_lat + 1e-6, b.max_lat - 1e-6),
        )

    n_buildings, n_rooms = max(people // 10, 1), max(people // 3, 1)
    n_estates = max(10, n_buildings // 100)
    estates = [
        lf.EstateFactory.create(grid_code=GRID, code=f"{GRID[:12]}{900 + i}")
        for i in range(n_estates)
    ]
    buildings = Building.objects.bulk_create(
        Building(
            estate=estates[i % n_estates],
            code=f"{estates[i % n_estates].code}{i // n_estates:03d}",
            name=f"{i}栋",
            address=f"测试地址{i}",
            lon=(p := point())[0],
            lat=p[1],
            grid_code=GRID,
        )
        for i in range(n_buildings)
    )
    rooms = Room.objects.bulk_create(
        Room(
            building=buildings[i % n_buildings],
            code=f"{buildings[i % n_buildings].code}01{i // n_buildings:04d}",
            unit=1,
            number=str(i),
            floor=1,
            grid_code=GRID,
        )
        for i in range(n_rooms)
    )
    Person.objects.bulk_create(
        (Person(grid_code=GRID, name=f"居民{i}", room=rooms[i % n_rooms]) for i in range(people)),
        batch_size=2000,
    )
    rows = history([GRID], n=events, start=dt.datetime(2026, 1, 5, tzinfo=dt.UTC), days=60)
    for event in rows:
        event.lon, event.lat = point()
    Event.objects.dangerously_unscoped().bulk_update(rows, ["lon", "lat"], batch_size=1000)


def _floor(bounds: Box) -> float:
    """The same people, rooms, buildings and open events moved by bare UPDATEs: the points
    tested in Python, one UPDATE per kind, nothing else."""
    from django.db import transaction

    from wangge.events.models import OPEN_STATUSES, Event
    from wangge.ledger.models import Building, Person, Room

    middle = (bounds.min_lon + bounds.max_lon) / 2
    started = time.perf_counter()
    with transaction.atomic():
        for model, lon in (
            (Building, "lon"),
            (Room, "building__lon"),
            (Person, "room__building__lon"),
        ):
            rows = model.objects.dangerously_unscoped().filter(grid_code=GRID)
            ids = [pk for pk, x in rows.values_list("pk", lon) if x is not None and x > middle]
            model.objects.dangerously_unscoped().filter(pk__in=ids).update(grid_code=EAST)
        events = Event.objects.dangerously_unscoped().filter(
            grid_code=GRID, status__in=OPEN_STATUSES
        )
        ids = [pk for pk, x in events.values_list("pk", "lon") if x > middle]
        Event.objects.dangerously_unscoped().filter(pk__in=ids).update(grid_code=EAST)
        transaction.set_rollback(True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--events", type=int, default=600)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="wangge-bench-restructure-"))
    setup_django(args.database_url or f"sqlite:///{data / 'wangge.sqlite3'}", str(data))
    from django.db import connection

    from tests import world
    from wangge.core.models import User
    from wangge.core.scope import scope_for
    from wangge.regions.models import Boundary, Region
    from wangge.restructure.services import restructure

    world.build()
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    Region.objects.dangerously_unscoped().update(valid_from=start)
    Boundary.objects.dangerously_unscoped().update(valid_from=start)
    pieces, bounds = _halves()
    _populate(args.people, args.events, bounds, random.Random(7))
    admin = scope_for(User.objects.get(username="demo-district"))
    floor = _floor(bounds)
    arguments: dict[str, Any] = {
        "operation": "split",
        "grids": [GRID],
        "pieces": pieces,
        "default": GRID,
    }

    started = time.perf_counter()
    dry = restructure(actor=admin, **arguments)
    dry_s = time.perf_counter() - started
    started = time.perf_counter()
    done = restructure(actor=admin, apply=True, **arguments)
    apply_s = time.perf_counter() - started

    moved = sum(m.as_dict()["total"] for m in done.modules)
    assert done.applied and dry.as_dict()["modules"] == done.as_dict()["modules"]
    print(
        f"{connection.vendor}: split of a grid with {args.people} people, "
        f"{max(args.people // 3, 1)} rooms, {max(args.people // 10, 1)} buildings, "
        f"{args.events} events — {moved} records re-homed"
    )
    print(f"  dry run              {dry_s:6.2f} s")
    print(f"  apply (one txn)      {apply_s:6.2f} s")
    print(f"  bare UPDATEs (floor) {floor:6.2f} s   apply / floor = {apply_s / floor:.1f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
