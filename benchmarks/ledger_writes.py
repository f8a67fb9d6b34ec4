"""Ledger writes through the one door, beside what they cost without it.

What a grid worker's "add a person" and "correct a person" do: `person_create` / `person_update`
(scope and permission checks against the covering grant, the import's parsers, duplicate
checks, version check, change log, a hash-chained audit entry, one transaction each). Beside
them, in the same run on the same database:

- the obvious alternative: the ORM alone (`Person.objects.create` / `save(update_fields)`,
  with the blind indexes computed, no checks, no log, no audit);
- the limit: one raw `executemany` INSERT of the same rows in one transaction.

Run:  .venv/bin/python benchmarks/ledger_writes.py [--n 400]   (a fresh SQLite data dir)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _ids(n: int, start: int) -> list[str]:
    from wangge.core.validators import id_check_char

    out = []
    for i in range(start, start + n):
        first17 = f"440704198{i // 1000 % 10}0{1 + i % 9}1{i % 10}{i % 1000:03d}"[:17]
        out.append(first17 + id_check_char(first17))
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=400)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="wangge-bench-writes-"))
    os.environ.update(
        {
            "WANGGE_DATA_DIR": str(data),
            "WANGGE_DATABASE_URL": f"sqlite:///{data / 'wangge.sqlite3'}",
            "WANGGE_LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "wangge.settings",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0)
    from tests import world

    world.build()
    from wangge.core.models import User
    from wangge.core.scope import scope_for
    from wangge.ledger import services
    from wangge.ledger.importers import person_id_index, phone_index
    from wangge.ledger.models import Person

    grid = world.MINE
    actor = scope_for(User.objects.get(username="demo-grid"))
    n = args.n
    ids = _ids(3 * n, 10_000)
    print(f"ledger writes, n={n} each, SQLite ({data})")

    # (1) through the services
    started = time.perf_counter()
    made = []
    for i in range(n):
        made.append(
            services.person_create(
                actor=actor,
                values={"name": f"测试{i}", "id_number": ids[i], "phone": f"1390000{i:04d}"},
                grid_code=grid,
                confirm_new=True,
            )
        )
    create_service = (time.perf_counter() - started) / n
    started = time.perf_counter()
    for p in made:
        services.person_update(
            actor=actor, person_id=p.pk, version=p.version, values={"employer": "某厂"}
        )
    update_service = (time.perf_counter() - started) / n

    # (2) the ORM alone
    started = time.perf_counter()
    plain = []
    for i in range(n, 2 * n):
        with transaction.atomic():
            plain.append(
                Person.objects.create(
                    grid_code=grid,
                    name=f"测试{i}",
                    id_number=ids[i],
                    id_index=person_id_index(ids[i]),
                    phone=f"1390000{i:04d}",
                    phone_index=phone_index(f"1390000{i:04d}"),
                )
            )
    create_orm = (time.perf_counter() - started) / n
    started = time.perf_counter()
    for p in plain:
        with transaction.atomic():
            p.employer = "某厂"
            p.save(update_fields=["employer"])
    update_orm = (time.perf_counter() - started) / n

    # (3) the limit: one executemany of the same (already encrypted) rows
    rows = [
        (grid, f"测试{i}", person_id_index(ids[i]), "1", now)
        for i in range(2 * n, 3 * n)
        for now in ["2026-12-01 00:00:00"]
    ]
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO ledger_person (grid_code, name, id_index, population_type, created_at,"
            " updated_at, gender, ethnicity, id_number, id_checked, phone, phone_index,"
            " registered_address, current_address, separated, employer, occupation,"
            " marital_status, education, political_status, relation, care_tags)"
            " VALUES (%s, %s, %s, %s, %s, %s, '', '', '', 1, '', '', '', '', 0, '', '', '', '',"
            " '', '', '')",
            [(*r, r[-1]) for r in rows],
        )
    create_raw = (time.perf_counter() - started) / n

    def ms(x: float) -> str:
        return f"{x * 1000:7.2f} ms"

    print(
        f"  create  service {ms(create_service)}   ORM alone {ms(create_orm)}   raw {ms(create_raw)}"
    )
    print(f"  update  service {ms(update_service)}   ORM alone {ms(update_orm)}")
    print(
        f"  ratios  create: service/ORM {create_service / create_orm:5.1f}×, "
        f"service/raw {create_service / create_raw:6.0f}×;  update: service/ORM "
        f"{update_service / update_orm:5.1f}×"
    )
    print(f"  per grid worker: {1 / create_service:,.0f} people added per second on one core")
    return 0


if __name__ == "__main__":
    sys.exit(main())
