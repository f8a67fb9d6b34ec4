"""People: the fast path, because registers run to millions of rows.

A forked parsing process (`workers.ParseWorkers`) parses, validates, encrypts and blind-indexes
batch k+1 while this process inserts batch k: raw executemany on SQLite, COPY on PostgreSQL.
For a CSV without double quotes the parsing process reads its own slice of the file through
`core.tabular.read_csv_range`, so rows never cross the pipe twice; otherwise this process reads
the rows (`Table.rows`) and sends them. People are de-duplicated by the ID number's blind index,
in the file and against the whole ledger.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
from collections.abc import Iterator
from itertools import islice
from typing import Any

from django.db import connection, connections
from django.utils.translation import gettext as _

from wangge.core.audit import audit_record
from wangge.core.crypto import keyring
from wangge.core.roles import Perm
from wangge.core.tabular import ParsedRow, RowError, Table, csv_ranges
from wangge.ledger import columns as cols
from wangge.ledger.importers.base import Importer
from wangge.ledger.importers.common import TAG_CONTEXT, LedgerImportResult, chunks
from wangge.ledger.importers.prepare import PLACE, PLAIN, Task, prepare, unpack
from wangge.ledger.importers.workers import ParseWorkers
from wangge.ledger.models import Household, LedgerChange, Person, Referral, SensitiveTag
from wangge.ledger.services.referrals import Referred


def _people_by_index(indexes: list[str]) -> dict[str, tuple[int, str]]:
    """Stored people (id, grid) by blind index, district-wide: de-duplication must see every
    record. Raw SQL: the ORM would prepare each of a million values."""
    found: dict[str, tuple[int, str]] = {}
    table = Person._meta.db_table
    with connection.cursor() as cursor:
        for chunk in chunks(indexes):
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT id_index, id, grid_code FROM {table} WHERE id_index IN ({marks})",  # noqa: S608 - fixed identifiers
                chunk,
            )
            found.update((index, (pk, grid)) for index, pk, grid in cursor.fetchall())
    return found


def _pool_size() -> int:
    """A parsing process, unless inside an open transaction (tests, nested callers: a fork
    must not share a connection in use) or on one core. WANGGE_IMPORT_WORKERS=0 turns it
    off."""
    if connection.in_atomic_block or (os.cpu_count() or 1) < 2:
        return 0
    return int(os.environ.get("WANGGE_IMPORT_WORKERS", "1"))


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    # Millions of short-lived tuples would set off the cyclic garbage collector over and over
    # (each pass walks the whole heap); nothing here forms cycles, so pause it.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class PeopleImporter(Importer):
    kind = "people"
    columns = cols.PEOPLE

    def __init__(self, *, workers: int | None = None, **kwargs: Any):
        """`workers`: parsing processes; by default one (WANGGE_IMPORT_WORKERS), none inside
        an open transaction. A caller that passes a number inside a transaction keeps its
        connection open across the fork: the children never use it and leave with os._exit."""
        super().__init__(**kwargs)
        self.ring = keyring()
        # Adapted once: the database driver would format the same instant a million times.
        self.stamp = connection.ops.adapt_datetimefield_value(self.now)
        # Blind indexes already seen in this file, as 60-bit integers (memory: ~60 MB per 1M).
        self.seen: dict[int, int] = {}
        self.workers = _pool_size() if workers is None else workers
        self.referrals: list[Referral] = []
        self.referred = 0
        self.pool: ParseWorkers | None = None

    def run(self, table: Table) -> LedgerImportResult:
        from wangge.regions.locate import grid_index

        # Read by the parsing processes, which inherit them when they are forked.
        PLACE["grids"] = self.grids
        PLACE["index"] = grid_index()
        with _gc_paused(), contextlib.ExitStack() as stack:
            if self.workers:
                if not connection.in_atomic_block:
                    connections.close_all()  # the children must not inherit an open socket
                self.pool = stack.enter_context(ParseWorkers(self.workers, prepare))
            try:
                return super().run(table)
            finally:
                self.pool = None

    def prepared_batches(self, table: Table) -> Iterator[list[ParsedRow]]:
        override = bool(self.override_reason)
        ranges = csv_ranges(table, rows=self.batch_size) if self.pool is not None else None
        tasks: Iterator[Task]
        if ranges is not None:
            close = getattr(table.rows, "close", None)
            if close is not None:
                close()  # the parsing processes read the file themselves
            tasks = ((part, self.mapping, override) for part in ranges)
        else:
            tasks = self._row_batches(table, override)
        if self.pool is None:
            for task in tasks:
                yield unpack(prepare(task))
            return
        for prepared in self.pool.map(tasks):
            yield unpack(prepared)

    def _row_batches(self, table: Table, override: bool) -> Iterator[Task]:
        rows = iter(table.rows)
        while True:
            raw = list(islice(rows, self.batch_size))
            if not raw:
                return
            yield raw, self.mapping, override

    def dedupe(self, rows: list[ParsedRow]) -> list[ParsedRow]:
        unique = []
        for r in rows:
            key = int(r.values["id_index"][:15], 16)
            first = self.seen.get(key)
            if first is not None:
                self.result.skipped += 1
                self.warn(
                    r,
                    "身份证号",
                    "duplicate_in_file",
                    _("The same ID number is on row %(row)d; this row was skipped.")
                    % {"row": first},
                )
                continue
            self.seen[key] = r.number
            unique.append(r)
        unique = self._allowed(unique)
        stored = _people_by_index([r.values["id_index"] for r in unique])
        fresh, updates = [], []
        for r in unique:
            found = stored.get(r.values["id_index"])
            pk = found[0] if found else None
            if found is None:
                fresh.append(r)
            elif found[1] not in self.grids:
                self._refer(r, pk)
                continue
            elif self.on_duplicate == "update":
                r.values["pk"] = pk
                updates.append(r)
            else:
                self.result.skipped += 1
                self.warn(
                    r, "身份证号", "duplicate", _("This person is already in the ledger; skipped.")
                )
        self.updates = updates
        self._flush_referrals()
        return fresh + updates

    def _flush_referrals(self) -> None:
        if not self.referrals:
            return
        Referral.objects.bulk_create(self.referrals)
        audit_record(
            actor=self.scope,
            action="ledger.refer",
            object_type="referral",
            details={"kind": "person", "source": "import", "rows": len(self.referrals)},
        )
        self.referred += len(self.referrals)
        self.referrals = []

    def _allowed(self, rows: list[ParsedRow]) -> list[ParsedRow]:
        """Rows whose links the actor may make: special groups only with `ledger.sensitive`
        over the row's grid (finding 12); a household number only if it is new or a household
        in the actor's scope (finding 8: codes are guessable; one from elsewhere is refused
        without saying it exists)."""
        codes = {r.values["household"] for r in rows if r.values.get("household")}
        taken = dict(
            Household.objects.dangerously_unscoped()
            .filter(code__in=codes)
            .values_list("code", "grid_code")
        )
        kept = []
        for r in rows:
            v = r.values
            if v.get("special_tags") and not self.scope.holds(Perm.LEDGER_SENSITIVE, v["grid"]):
                self.reject(
                    r,
                    [
                        RowError(
                            r.number,
                            "特殊人群",
                            "not_allowed",
                            _("Your role may not record special groups."),
                        )
                    ],
                )
                continue
            where = taken.get(v.get("household") or "")
            if where is not None and where not in self.grids:
                self.reject(
                    r,
                    [
                        RowError(
                            r.number,
                            "户编号",
                            "code_taken",
                            _("This household number cannot be used; choose another."),
                        )
                    ],
                )
                continue
            kept.append(r)
        return kept

    def _refer(self, row: ParsedRow, existing: int | None) -> None:
        """The ID number is registered outside the actor's scope: the row goes to the
        district for review (finding 9), saying neither where nor that it is registered."""
        self.result.skipped += 1
        self.warn(row, "身份证号", "referred", str(Referred.default_message))
        if self.dry_run:
            return
        self.referrals.append(
            Referral(
                kind="person",
                reason="duplicate_elsewhere",
                grid_code=row.values["grid"],
                district_code=row.values["grid"][:6],
                existing_id=existing,
                payload=json.dumps({"row": row.number, "source": "import"}, ensure_ascii=False),
                source="import",
                created_by_id=self.scope.user_id,
                created_by_name=self.scope.username,
                created_at=self.now,
            )
        )

    def _record(self, v: dict[str, Any]) -> list[Any]:
        # grid_code, the parsing side's record, then room_id and the time stamps.
        return [v["grid"], *v["record"], v.get("room_id"), self.stamp, self.stamp]

    # The columns written, in the record's order: the special ones, then the plain fields of
    # the one field list (ledger/fields.py) — a new person field needs no edit here.
    FIELDS = [
        "grid_code", "name", "gender", "birth_date", "id_number", "id_index", "id_checked",
        "phone", "phone_index", "relation", "care_tags",
        *[f.attr for f, _blank in PLAIN],
        "room_id", "created_at", "updated_at",
    ]  # fmt: skip

    def write(self, rows: list[ParsedRow]) -> None:
        fresh = [r for r in rows if "pk" not in r.values]
        records = [self._record(r.values) for r in fresh]
        table = Person._meta.db_table
        if records:
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    raw = cursor.cursor
                    columns = ", ".join(self.FIELDS)
                    with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        for record in records:
                            copy.write_row(record)
            else:
                marks = ", ".join(["%s"] * len(self.FIELDS))
                with connection.cursor() as cursor:
                    cursor.executemany(
                        f"INSERT INTO {table} ({', '.join(self.FIELDS)}) VALUES ({marks})",  # noqa: S608 - fixed identifiers
                        records,
                    )
            self.result.inserted += len(records)
        if self.updates:
            # A re-import is a change like any other: the version moves and the change is
            # logged, so an edit started from the old version is refused, not lost.
            sets = ", ".join(f"{f} = %s" for f in self.FIELDS if f != "created_at")
            sets += ", version = version + 1"
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {table} SET {sets} WHERE id = %s",  # noqa: S608 - fixed identifiers
                    [
                        [
                            value
                            for f, value in zip(self.FIELDS, self._record(r.values), strict=True)
                            if f != "created_at"
                        ]
                        + [r.values["pk"]]
                        for r in self.updates
                    ],
                )
            self.result.updated += len(self.updates)
            self._log_updates([r.values["pk"] for r in self.updates])
        self._links(rows)

    def _log_updates(self, ids: list[int]) -> None:
        fields = [f for f in self.FIELDS if f not in {"created_at", "updated_at", "grid_code"}]
        LedgerChange.objects.bulk_create(
            [
                LedgerChange(
                    kind="person",
                    record_id=pk,
                    version=version,
                    action="import",
                    fields=fields,
                    grid_code=grid,
                    actor_id=self.scope.user_id,
                    actor_name=self.scope.username,
                    at=self.now,
                )
                for pk, version, grid in Person.objects.dangerously_unscoped()
                .filter(pk__in=ids)
                .values_list("pk", "version", "grid_code")
            ],
            batch_size=1000,
        )

    def _links(self, rows: list[ParsedRow]) -> None:
        """Households and sensitive tags need the people's ids: one lookup per batch."""
        linked = [r for r in rows if r.values.get("household") or r.values.get("special_tags")]
        if not linked:
            return
        ids = {k: v[0] for k, v in _people_by_index([r.values["id_index"] for r in linked]).items()}
        codes = {r.values["household"] for r in linked if r.values.get("household")}
        households = dict(
            Household.objects.dangerously_unscoped()
            .filter(code__in=codes)
            .values_list("code", "pk")
        )
        new = [
            Household(
                code=code,
                grid_code=next(
                    r.values["grid"] for r in linked if r.values.get("household") == code
                ),
            )
            for code in sorted(codes - set(households))
        ]
        if new:
            Household.objects.bulk_create(new, batch_size=1000)
            households.update(
                Household.objects.dangerously_unscoped()
                .filter(code__in=[h.code for h in new])
                .values_list("code", "pk")
            )
        member_updates: dict[int, list[int]] = {}
        heads: list[tuple[int, int]] = []
        tags = []
        ring = self.ring
        for r in linked:
            pk = ids[r.values["id_index"]]
            code = r.values.get("household")
            if code:
                member_updates.setdefault(households[code], []).append(pk)
                if r.values.get("relation") in {"户主", "本人"}:
                    heads.append((pk, households[code]))
            for tag in r.values.get("special_tags") or []:
                tags.append(
                    SensitiveTag(
                        person_id=pk,
                        grid_code=r.values["grid"],
                        tag=tag,
                        tag_index=ring.blind_index(tag, context=TAG_CONTEXT),
                    )
                )
        for household_pk, people in member_updates.items():
            Person.objects.dangerously_unscoped().filter(pk__in=people).update(
                household_id=household_pk
            )
        for person_pk, household_pk in heads:
            Household.objects.dangerously_unscoped().filter(pk=household_pk).update(
                head_id=person_pk
            )
        if tags:
            SensitiveTag.objects.bulk_create(tags, batch_size=1000, ignore_conflicts=True)
