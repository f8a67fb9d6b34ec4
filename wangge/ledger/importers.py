"""Bulk import of the ledger: people, organisations, addresses and things.

Rows are parsed and checked by the core tabular framework, placed in a grid (grid-code column,
standard address code, or lon/lat through the vectorised locate), de-duplicated inside the file
and against stored records (blind index for people, credit code for organisations, codes for
addresses and things), and written in batches: each batch is one transaction, so an
interrupted import leaves no half-written batch, and re-running it skips what is stored.
People take a fast path (raw executemany on SQLite, COPY on PostgreSQL) because registers run
to millions of rows; the others use the ORM's bulk operations.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core.audit import audit_record
from wangge.core.crypto import keyring
from wangge.core.errors import PermissionDenied, ValidationFailed
from wangge.core.personal import normalise, normalise_phone
from wangge.core.roles import Perm
from wangge.core.scope import as_scope
from wangge.core.tabular import (
    ImportResult,
    ParsedRow,
    RejectedRows,
    RowError,
    RowPlan,
    Table,
    csv_rows,
    error_workbook,
    match_headers,
    parse_row,
)
from wangge.ledger import columns as cols
from wangge.ledger.models import (
    Building,
    Estate,
    Household,
    Organisation,
    Person,
    Room,
    SensitiveTag,
    Thing,
)
from wangge.regions.models import Level, Region

BATCH = 20_000  # rows per transaction: fewer WAL checkpoints, bounded memory
MAX_KEPT_REJECTS = 100_000  # rows kept for the error file; the counts stay exact beyond it
# Blind-index contexts (an index is only comparable with indexes of the same context).
ID_CONTEXT = "ledger.person.id_number"
PHONE_CONTEXT = "ledger.phone"
TAG_CONTEXT = "ledger.sensitivetag.tag"


def _field_context(model: Any, name: str) -> str:
    """The associated data the model's EncryptedField uses: the raw path must match it."""
    return str(model._meta.get_field(name).context)


OVERRIDABLE = {"id_check", "id_birth_date", "credit_check"}


def person_id_index(value: str) -> str:
    return keyring().blind_index(normalise(value), context=ID_CONTEXT)


def phone_index(value: str) -> str:
    return keyring().blind_index(normalise_phone(value), context=PHONE_CONTEXT) if value else ""


def tag_index(tag: str) -> str:
    return keyring().blind_index(tag, context=TAG_CONTEXT)


@dataclass
class LedgerImportResult(ImportResult):
    kind: str = ""
    warnings: list[RowError] = field(default_factory=list)
    rejected_rows: list[RejectedRows] = field(default_factory=list)
    overridden: int = 0

    def as_dict(self) -> dict[str, Any]:
        data = super().as_dict()
        data.update(
            kind=self.kind,
            overridden=self.overridden,
            warnings=[w.as_dict() for w in self.warnings[:10_000]],
        )
        return data

    def error_file(self) -> bytes:
        return error_workbook(self.rejected_rows)


class Importer:
    kind = ""
    columns: list[Any] = []
    needs_grid = True

    def __init__(
        self,
        *,
        actor: Any,
        dry_run: bool = False,
        on_duplicate: str = "skip",
        override_reason: str = "",
        progress: Callable[[int], None] | None = None,
        batch_size: int = BATCH,
    ):
        self.scope = as_scope(actor)
        if not self.scope.has(Perm.LEDGER_EDIT):
            raise PermissionDenied(_("Your role may not import into the ledger."))
        if on_duplicate not in {"skip", "update"}:
            raise ValidationFailed("on_duplicate must be skip or update", code="bad_option")
        if override_reason and not self.scope.has(Perm.LEDGER_OVERRIDE):
            raise PermissionDenied(_("Your role may not accept codes that fail their check."))
        self.dry_run = dry_run
        self.on_duplicate = on_duplicate
        self.override_reason = override_reason.strip()
        self.progress = progress
        self.batch_size = batch_size
        self.result = LedgerImportResult(kind=self.kind, dry_run=dry_run)
        self.grids = set(
            Region.objects.visible_to(self.scope, Perm.LEDGER_EDIT)
            .filter(level=Level.GRID, valid_to=None)
            .values_list("code", flat=True)
        )
        self.now = timezone.now()
        self.overridden_rows: list[int] = []

    # -- the loop -------------------------------------------------------------------------------

    def run(self, table: Table) -> LedgerImportResult:
        self.headers = table.headers
        self.mapping = match_headers(table.headers, self.columns)
        self.result.stored = not self.dry_run
        limit = settings.IMPORT_MAX_ROWS
        for batch in self.prepared_batches(table):
            self.result.total += len(batch)
            if self.result.total > limit:
                raise ValidationFailed(
                    _("The file has more than %(limit)d rows; split it into smaller files.")
                    % {"limit": limit},
                    code="too_many_rows",
                )
            ok = [r for r in batch if self._accept(r)]
            if self.needs_grid:
                ok = self._place(ok)
            with transaction.atomic():
                ok = self.dedupe(ok)
                if ok:
                    self.write(ok)
                if self.dry_run:
                    transaction.set_rollback(True)
            if self.progress:
                self.progress(self.result.total)
        if not self.dry_run:
            details = {
                k: v for k, v in self.result.as_dict().items() if k not in {"errors", "warnings"}
            }
            if self.overridden_rows:
                details["override_reason"] = self.override_reason
                details["override_rows"] = self.overridden_rows[:1000]
            audit_record(
                actor=self.scope,
                action=f"ledger.import.{self.kind}",
                object_type="ledger",
                object_id=self.kind,
                details=details,
            )
        self.result.overridden = len(self.overridden_rows)
        # Cell errors are found before placement errors: report both in the file's row order.
        self.result.errors.sort(key=lambda e: e.row)
        for rejected in self.result.rejected_rows:
            rejected.rows.sort(key=lambda r: r.number)
        return self.result

    def prepared_batches(self, table: Table) -> Iterator[list[ParsedRow]]:
        """Batches of parsed rows. Subclasses may parse in worker processes."""
        plan = RowPlan.make(self.columns, self.mapping)
        rows = (
            ParsedRow(number, cells, *parse_row(number, cells, self.columns, self.mapping, plan))
            for number, cells in table.rows
        )
        while True:
            batch = list(islice(rows, self.batch_size))
            if not batch:
                return
            yield batch

    def _accept(self, row: ParsedRow) -> bool:
        """Rows with errors are rejected, except check-digit errors under a supervised override."""
        if row.values.pop("overridden", False):
            self.overridden_rows.append(row.number)
            return True
        if row.errors and self.override_reason and all(e.code in OVERRIDABLE for e in row.errors):
            self.override(row)
            self.overridden_rows.append(row.number)
            row.errors = []
            return True
        if row.errors:
            self.reject(row, row.errors)
            return False
        return True

    def override(self, row: ParsedRow) -> None:
        """Keep the value as written, flagged as failing its check."""

    def reject(self, row: ParsedRow, errors: list[RowError]) -> None:
        self.result.rejected += 1
        self.result.errors.extend(errors)
        row.errors = errors
        if sum(len(r.rows) for r in self.result.rejected_rows) < MAX_KEPT_REJECTS:
            if not self.result.rejected_rows:
                self.result.rejected_rows.append(RejectedRows(self.kind, self.headers))
            self.result.rejected_rows[0].rows.append(row)

    def elsewhere(self, row: ParsedRow, stored_grid: str, column: str) -> bool:
        """A duplicate of a record in a grid outside the actor's scope is left untouched —
        never updated, never moved — and reported without saying where it is."""
        if stored_grid in self.grids:
            return False
        self.result.skipped += 1
        self.warn(
            row,
            column,
            "duplicate_elsewhere",
            _("Already registered outside your scope; not changed. Ask the district centre."),
        )
        return True

    def warn(self, row: ParsedRow, column: str, code: str, message: str) -> None:
        self.result.warnings.append(RowError(row.number, column, code, message))

    # -- placing rows in grids -------------------------------------------------------------------

    def _place(self, rows: list[ParsedRow]) -> list[ParsedRow]:
        done = [r for r in rows if "grid" in r.values]
        if len(done) == len(rows):
            return rows
        placed_early = {id(r) for r in done}
        rest = [r for r in rows if id(r) not in placed_early]
        return done + self._place_rest(rest)

    def _place_rest(self, rows: list[ParsedRow]) -> list[ParsedRow]:
        room_codes = {r.values.get("room_code") for r in rows} - {None}
        rooms = {}
        if room_codes:
            rooms = {
                code: (pk, grid)
                for pk, code, grid in Room.objects.dangerously_unscoped()
                .filter(code__in=room_codes)
                .values_list("pk", "code", "grid_code")
            }
        need_locate = [
            r
            for r in rows
            if not r.values.get("grid_code")
            and not r.values.get("room_code")
            and r.values.get("lon") is not None
            and r.values.get("lat") is not None
        ]
        if need_locate:
            from wangge.regions.locate import grid_index

            index = grid_index()
            found = index.codes_for(
                index.locate(
                    np.array([r.values["lon"] for r in need_locate]),
                    np.array([r.values["lat"] for r in need_locate]),
                )
            )
            for r, code in zip(need_locate, found, strict=True):
                r.values["located"] = code or ""
        placed = []
        for r in rows:
            v = r.values
            grid = v.get("grid_code") or ""
            if v.get("room_code"):
                room = rooms.get(v["room_code"])
                if room is None:
                    self.reject(
                        r,
                        [
                            RowError(
                                r.number,
                                "地址编码",
                                "unknown_address",
                                _("No standard address has this code."),
                            )
                        ],
                    )
                    continue
                if grid and grid != room[1]:
                    self.reject(
                        r,
                        [
                            RowError(
                                r.number,
                                "网格编码",
                                "grid_mismatch",
                                _("The grid code and the address's grid (%(grid)s) differ.")
                                % {"grid": room[1]},
                            )
                        ],
                    )
                    continue
                v["room_id"], grid = room
            elif not grid and "located" in v:
                grid = v["located"]
                if not grid:
                    self.reject(
                        r,
                        [
                            RowError(
                                r.number,
                                "经度",
                                "outside_grids",
                                _("This location lies outside every grid."),
                            )
                        ],
                    )
                    continue
            if not grid:
                self.reject(
                    r,
                    [
                        RowError(
                            r.number,
                            "网格编码",
                            "no_grid",
                            _(
                                "Give a grid code, a standard address code, or longitude "
                                "and latitude."
                            ),
                        )
                    ],
                )
                continue
            if grid not in self.grids:
                self.reject(
                    r,
                    [
                        RowError(
                            r.number,
                            "网格编码",
                            "unknown_grid",
                            _("Grid %(code)s does not exist or is outside your scope.")
                            % {"code": grid},
                        )
                    ],
                )
                continue
            v["grid"] = grid
            placed.append(r)
        return placed

    # -- per kind ---------------------------------------------------------------------------------

    def dedupe(self, rows: list[ParsedRow]) -> list[ParsedRow]:
        raise NotImplementedError

    def write(self, rows: list[ParsedRow]) -> None:
        raise NotImplementedError


def _chunks(items: list[Any], size: int = 900) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _prepare_people(
    task: tuple[list[tuple[int, list[Any]]], dict[str, int], bool],
) -> list[ParsedRow]:
    """Parse, check, encrypt and blind-index one batch of people (runs in a worker process).

    Rows that pass carry everything the database needs except the grid (placed by the main
    process, which holds the locate index) and lose their raw cells (less to send back)."""
    raw_rows, mapping, override = task
    ring = keyring()
    id_field = _field_context(Person, "id_number")
    phone_field = _field_context(Person, "phone")
    id_position = mapping["id_number"]
    plan = RowPlan.make(cols.PEOPLE, mapping)
    out: list[Any] = []
    for number, cells in raw_rows:
        values, errors = parse_row(number, cells, cols.PEOPLE, mapping, plan)
        parsed = values.get("id_number")
        if errors:
            if override and all(e.code in OVERRIDABLE for e in errors):
                values["overridden"] = True
                errors = []
                id_value = normalise(str(cells[id_position]))
            else:
                out.append(ParsedRow(number, cells, values, errors))
                continue
        else:
            id_value = parsed.value if parsed is not None else ""
        phone = values.get("phone") or ""
        birth = values.get("birth_date") or (parsed.birth_date if parsed is not None else None)
        id_index = ring.blind_index(id_value, context=ID_CONTEXT)
        # Only what the main process needs travels back: placement, keys, the record.
        slim = {
            "grid_code": values.get("grid_code"),
            "room_code": values.get("room_code"),
            "lon": values.get("lon"),
            "lat": values.get("lat"),
            "id_index": id_index,
            "household": values.get("household"),
            "relation": values.get("relation") or "",
            "special_tags": values.get("special_tags"),
            "record": [
                values["name"],
                values.get("gender") or (parsed.gender if parsed is not None else ""),
                values.get("ethnicity") or "",
                birth.isoformat() if birth else None,
                ring.encrypt(id_value, context=id_field),
                id_index,
                parsed is not None,
                ring.encrypt(phone, context=phone_field) if phone else "",
                ring.blind_index(phone, context=PHONE_CONTEXT) if phone else "",
                values.get("registered_address") or "",
                values.get("current_address") or "",
                values.get("population_type") or "1",
                bool(values.get("separated")),
                values.get("move_in"),
                values.get("expected_leave"),
                values.get("employer") or "",
                values.get("occupation") or "",
                values.get("marital_status") or "",
                values.get("education") or "",
                values.get("political_status") or "",
                values.get("relation") or "",
                ",".join(values.get("care_tags") or []),
            ],
        }
        if values.get("overridden"):
            slim["overridden"] = True
        out.append((number, tuple(slim.get(k) for k in _SLIM_KEYS[:-1]), cells))
    return _place_in_worker(out)


# Set by the importer before it forks: the grids the actor may write to, and the locate index.
_PLACE: dict[str, Any] = {}


def _place_in_worker(rows: list[Any]) -> list[Any]:
    """Put rows in their grid where no database is needed (grid code, lon/lat); rows with a
    standard address code are left to the main process, which looks the address up."""
    grids = _PLACE.get("grids")
    index = _PLACE.get("index")
    if grids is None or index is None:
        return [r[:2] if not isinstance(r, ParsedRow) else r for r in rows]
    grid_at, room_at, lon_at, lat_at = 0, 1, 2, 3
    locate = [
        i
        for i, r in enumerate(rows)
        if not isinstance(r, ParsedRow)
        and not r[1][grid_at]
        and not r[1][room_at]
        and r[1][lon_at] is not None
        and r[1][lat_at] is not None
    ]
    located: dict[int, str | None] = {}
    if locate:
        codes = index.codes_for(
            index.locate(
                np.array([rows[i][1][lon_at] for i in locate]),
                np.array([rows[i][1][lat_at] for i in locate]),
            )
        )
        located = dict(zip(locate, codes, strict=True))
    out: list[Any] = []
    for i, r in enumerate(rows):
        if isinstance(r, ParsedRow):
            out.append(r)
            continue
        number, slim, cells = r
        if slim[room_at]:
            out.append((number, slim))
            continue
        grid = slim[grid_at] or located.get(i)
        error = None
        if not slim[grid_at] and i in located and not grid:
            error = RowError(
                number, "经度", "outside_grids", _("This location lies outside every grid.")
            )
        elif not grid:
            error = RowError(
                number,
                "网格编码",
                "no_grid",
                _("Give a grid code, a standard address code, or longitude and latitude."),
            )
        elif grid not in grids:
            error = RowError(
                number,
                "网格编码",
                "unknown_grid",
                _("Grid %(code)s does not exist or is outside your scope.") % {"code": grid},
            )
        if error is not None:
            out.append(ParsedRow(number, cells, {}, [error]))
            continue
        out.append((number, (*slim, grid)))
    return out


_SLIM_KEYS = (
    "grid_code", "room_code", "lon", "lat", "id_index", "household", "relation",
    "special_tags", "record", "overridden", "grid",
)  # fmt: skip


_SLIM_INDEX = {key: i for i, key in enumerate(_SLIM_KEYS)}


class _SlimValues:
    """A row's values as the worker sent them (a tuple), read like the dict the importer
    expects; writes go to a small overlay. Building a dict per row was a third of the main
    process's work on a million-row import."""

    __slots__ = ("_overlay", "_row")

    def __init__(self, row: tuple[Any, ...]):
        self._row = row
        self._overlay: dict[str, Any] | None = None

    def __getitem__(self, key: str) -> Any:
        overlay = self._overlay
        if overlay is not None and key in overlay:
            return overlay[key]
        i = _SLIM_INDEX[key]
        if i >= len(self._row) or (key == "grid" and self._row[i] is None):
            raise KeyError(key)
        return self._row[i]

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __setitem__(self, key: str, value: Any) -> None:
        if self._overlay is None:
            self._overlay = {}
        self._overlay[key] = value

    def __contains__(self, key: object) -> bool:
        try:
            self[str(key)]
        except KeyError:
            return False
        return True

    def pop(self, key: str, default: Any = None) -> Any:
        value = self.get(key, default)
        self[key] = default
        return value


def _unpack(prepared: list[Any]) -> list[ParsedRow]:
    """Worker output → parsed rows. Tuples travel between processes far cheaper than objects."""
    return [
        item if isinstance(item, ParsedRow) else ParsedRow(item[0], [], _SlimValues(item[1]), [])  # type: ignore[arg-type]
        for item in prepared
    ]


@dataclass(frozen=True)
class _WorkerFailed:
    """A file error a parsing worker met (a row it cannot read), sent back to be raised."""

    code: str
    message: str


def _worker_loop(conn: Any) -> None:
    """A parsing worker: batches (or byte ranges of the file) in, prepared batches out, until
    it receives None."""
    import gc

    gc.disable()  # short-lived, allocation-heavy, no reference cycles: see PeopleImporter.run
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        try:
            conn.send(_prepare_range(task) if task[0] == "range" else _prepare_people(task))
        except ValidationFailed as exc:
            conn.send(_WorkerFailed(exc.code, exc.message))


RANGE_BYTES = 2_000_000  # ~20,000 register rows


def _file_ranges(path: Path) -> Iterator[tuple[int, int, int]] | None:
    """(start, end, first row number) slices of a CSV at line ends, or None when the file has a
    double quote anywhere (a quoted field may hold a line break: read it whole instead)."""
    import mmap

    size = path.stat().st_size
    with path.open("rb") as handle:
        if size == 0:
            return None
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        if mapped.find(b'"') != -1:
            return None
        header_end = mapped.find(b"\n") + 1
        if header_end <= 0:
            return None
        ranges = []
        position, line = header_end, 2
        while position < size:
            end = min(position + RANGE_BYTES, size)
            if end < size:
                newline = mapped.find(b"\n", end)
                end = size if newline == -1 else newline + 1
            ranges.append((position, end, line))
            line += mapped[position:end].count(b"\n")
            position = end
        return iter(ranges)
    finally:
        mapped.close()


def _prepare_range(task: tuple[Any, ...]) -> list[Any]:
    """Read, parse and prepare one byte range of the CSV (runs in a worker process)."""
    _kind, path, encoding, start, end, first_line, mapping, override = task
    with open(path, "rb") as handle:
        handle.seek(start)
        text = handle.read(end - start).decode("utf-8" if encoding == "utf-8-sig" else encoding)
    raw = list(csv_rows(csv.reader(io.StringIO(text, newline="")), first=first_line))
    return _prepare_people((raw, mapping, override))


def _people_by_index(indexes: list[str]) -> dict[str, tuple[int, str]]:
    """Stored people (id, grid) by blind index, district-wide: de-duplication must see every
    record. Raw SQL: the ORM would prepare each of a million values."""
    found: dict[str, tuple[int, str]] = {}
    table = Person._meta.db_table
    with connection.cursor() as cursor:
        for chunk in _chunks(indexes):
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT id_index, id, grid_code FROM {table} WHERE id_index IN ({marks})",  # noqa: S608 - fixed identifiers
                chunk,
            )
            found.update((index, (pk, grid)) for index, pk, grid in cursor.fetchall())
    return found


def _pool_size() -> int:
    """A parsing worker process, unless inside an open transaction (tests, nested callers: a
    fork must not share a connection in use) or on one core. WANGGE_IMPORT_WORKERS=0 turns it
    off."""
    if connection.in_atomic_block or (os.cpu_count() or 1) < 2:
        return 0
    return int(os.environ.get("WANGGE_IMPORT_WORKERS", "1"))


class PeopleImporter(Importer):
    kind = "people"
    columns = cols.PEOPLE

    def run(self, table: Table) -> LedgerImportResult:
        # Millions of short-lived tuples would set off the cyclic garbage collector over and
        # over (each pass walks the whole heap); nothing here forms cycles, so pause it.
        import gc

        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return super().run(table)
        finally:
            if was_enabled:
                gc.enable()

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.ring = keyring()
        # Adapted once: the database driver would format the same instant a million times.
        self.stamp = connection.ops.adapt_datetimefield_value(self.now)
        # Blind indexes already seen in this file, as 60-bit integers (memory: ~60 MB per 1M).
        self.seen: dict[int, int] = {}

    def prepared_batches(self, table: Table) -> Iterator[list[ParsedRow]]:
        override = bool(self.override_reason)

        def tasks() -> Iterator[tuple[list[tuple[int, list[Any]]], dict[str, int], bool]]:
            rows = iter(table.rows)
            while True:
                raw = list(islice(rows, self.batch_size))
                if not raw:
                    return
                yield raw, self.mapping, override

        from wangge.regions.locate import grid_index

        _PLACE["grids"] = self.grids
        _PLACE["index"] = grid_index()
        workers = _pool_size()
        if workers == 0:
            for batch_task in tasks():
                yield _unpack(_prepare_people(batch_task))
            return
        import multiprocessing

        connections.close_all()  # the children must not inherit an open socket
        context = multiprocessing.get_context("fork")
        children = []
        for _number in range(workers):
            parent, child = context.Pipe()
            process = context.Process(target=_worker_loop, args=(child,), daemon=True)
            process.start()
            child.close()
            children.append((parent, process))
        ranges = _file_ranges(table.source) if table.source is not None else None
        if ranges is not None:
            close = getattr(table.rows, "close", None)
            if close is not None:
                close()  # the workers read the file themselves

            def range_tasks() -> Iterator[tuple[Any, ...]]:
                for start, end, first_line in ranges:
                    yield ("range", str(table.source), table.encoding, start, end, first_line,
                           self.mapping, override)  # fmt: skip

            task_source: Iterator[Any] = range_tasks()
        else:
            task_source = tasks()
        # Ping-pong, one batch ahead per worker, received in order: the workers parse and
        # encrypt the next batches while this process inserts the current one. No helper
        # threads here: they would contend for the GIL with the database driver, which
        # releases it on every row it steps.
        try:
            pending_tasks = task_source
            in_flight: deque[Any] = deque()
            for parent, _process in children:
                task = next(pending_tasks, None)
                if task is None:
                    break
                parent.send(task)
                in_flight.append(parent)
            while in_flight:
                parent = in_flight.popleft()
                result = parent.recv()
                if isinstance(result, _WorkerFailed):
                    raise ValidationFailed(result.message, code=result.code)
                task = next(pending_tasks, None)
                if task is not None:
                    parent.send(task)
                    in_flight.append(parent)
                yield _unpack(result)
        finally:
            for parent, process in children:
                with contextlib.suppress(BrokenPipeError, OSError):
                    parent.send(None)
                process.join(timeout=10)
                if process.is_alive():
                    process.terminate()
                parent.close()

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
        stored = _people_by_index([r.values["id_index"] for r in unique])
        fresh, updates = [], []
        for r in unique:
            found = stored.get(r.values["id_index"])
            pk = found[0] if found else None
            if found is None:
                fresh.append(r)
            elif self.elsewhere(r, found[1], "身份证号"):
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
        return fresh + updates

    def _record(self, v: dict[str, Any]) -> list[Any]:
        r = v["record"]
        # grid_code, then the worker's fields with room_id inserted after current_address.
        return [v["grid"], *r[:11], v.get("room_id"), *r[11:], self.stamp, self.stamp]

    FIELDS = [
        "grid_code", "name", "gender", "ethnicity", "birth_date", "id_number", "id_index",
        "id_checked", "phone", "phone_index", "registered_address", "current_address", "room_id",
        "population_type", "separated", "move_in", "expected_leave", "employer", "occupation",
        "marital_status", "education", "political_status", "relation", "care_tags", "created_at",
        "updated_at",
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
            sets = ", ".join(f"{f} = %s" for f in self.FIELDS if f != "created_at")
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
        self._links(rows)

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


class OrganisationImporter(Importer):
    kind = "organisations"
    columns = cols.ORGANISATIONS

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.seen: dict[str, int] = {}

    def override(self, row: ParsedRow) -> None:
        from wangge.core.tabular import match_headers

        position = match_headers(self.headers, self.columns)["credit_code"]
        row.values["credit_code"] = normalise(str(row.cells[position]))
        row.values["credit_checked"] = False

    def dedupe(self, rows: list[ParsedRow]) -> list[ParsedRow]:
        unique = []
        for r in rows:
            code = r.values.get("credit_code")
            if code:
                if code in self.seen:
                    self.result.skipped += 1
                    self.warn(
                        r,
                        "统一社会信用代码",
                        "duplicate_in_file",
                        _("The same credit code is on row %(row)d; this row was skipped.")
                        % {"row": self.seen[code]},
                    )
                    continue
                self.seen[code] = r.number
            unique.append(r)
        codes = [r.values["credit_code"] for r in unique if r.values.get("credit_code")]
        stored = {
            code: (pk, grid)
            for code, pk, grid in Organisation.objects.dangerously_unscoped()
            .filter(credit_code__in=codes)
            .values_list("credit_code", "pk", "grid_code")
        }
        out = []
        for r in unique:
            found = stored.get(r.values.get("credit_code") or "")
            pk = found[0] if found else None
            if found is not None:
                if self.elsewhere(r, found[1], "统一社会信用代码"):
                    continue
                if self.on_duplicate == "skip":
                    self.result.skipped += 1
                    self.warn(
                        r,
                        "统一社会信用代码",
                        "duplicate",
                        _("This organisation is already in the ledger; skipped."),
                    )
                    continue
                r.values["pk"] = pk
            out.append(r)
        return out

    def write(self, rows: list[ParsedRow]) -> None:
        ring = keyring()
        new: list[Organisation] = []
        changed: list[Organisation] = []
        for r in rows:
            v = r.values
            phone = v.get("phone") or ""
            org = Organisation(
                pk=v.get("pk"),
                grid_code=v["grid"],
                name=v["name"],
                credit_code=v.get("credit_code") or "",
                credit_checked=v.get("credit_checked", True),
                kind=v["kind"],
                legal_representative=v.get("legal_representative") or "",
                phone=phone,
                phone_index=ring.blind_index(phone, context=PHONE_CONTEXT) if phone else "",
                address=v.get("address") or "",
                room_id=v.get("room_id"),
                lon=v.get("lon"),
                lat=v.get("lat"),
                employees=v.get("employees"),
                key_tags=v.get("key_tags") or "",
                created_at=self.now,
            )
            (changed if v.get("pk") else new).append(org)
        Organisation.objects.bulk_create(new, batch_size=1000)
        fields = [
            "grid_code",
            "name",
            "credit_checked",
            "kind",
            "legal_representative",
            "phone",
            "phone_index",
            "address",
            "room_id",
            "lon",
            "lat",
            "employees",
            "key_tags",
        ]
        if changed:
            Organisation.objects.dangerously_unscoped().bulk_update(changed, fields, batch_size=500)
        self.result.inserted += len(new)
        self.result.updated += len(changed)


class ThingImporter(Importer):
    kind = "things"
    columns = cols.THINGS

    def dedupe(self, rows: list[ParsedRow]) -> list[ParsedRow]:
        seen: set[str] = getattr(self, "_seen", set())
        self._seen = seen
        codes = [r.values["code"] for r in rows]
        stored = {
            code: (pk, grid)
            for code, pk, grid in Thing.objects.dangerously_unscoped()
            .filter(code__in=codes)
            .values_list("code", "pk", "grid_code")
        }
        out = []
        for r in rows:
            code = r.values["code"]
            if code in seen:
                self.result.skipped += 1
                self.warn(
                    r,
                    "部件编码",
                    "duplicate_in_file",
                    _("This code appears earlier in the file; skipped."),
                )
                continue
            seen.add(code)
            if code in stored:
                if self.elsewhere(r, stored[code][1], "部件编码"):
                    continue
                if self.on_duplicate == "skip":
                    self.result.skipped += 1
                    self.warn(
                        r,
                        "部件编码",
                        "duplicate",
                        _("This component is already in the ledger; skipped."),
                    )
                    continue
                r.values["pk"] = stored[code][0]
            out.append(r)
        return out

    def write(self, rows: list[ParsedRow]) -> None:
        new: list[Thing] = []
        changed: list[Thing] = []
        for r in rows:
            v = r.values
            code = v["code"]
            thing = Thing(
                pk=v.get("pk"),
                code=code,
                name=v["name"],
                major=code[6:8],
                minor=code[8:10] if len(code) == 16 else code[8:11],
                responsible_unit=v.get("responsible_unit") or "",
                state=v.get("state") or "good",
                lon=v["lon"],
                lat=v["lat"],
                grid_code=v["grid"],
                note=v.get("note") or "",
            )
            (changed if v.get("pk") else new).append(thing)
        Thing.objects.bulk_create(new, batch_size=1000)
        if changed:
            Thing.objects.dangerously_unscoped().bulk_update(
                changed,
                ["name", "responsible_unit", "state", "lon", "lat", "grid_code", "note"],
                batch_size=500,
            )
        self.result.inserted += len(new)
        self.result.updated += len(changed)


class AddressImporter(Importer):
    """One row per room (or per building when the room columns are empty). The building's
    location places it — and its rooms — in a grid."""

    kind = "addresses"
    columns = cols.ADDRESSES

    def dedupe(self, rows: list[ParsedRow]) -> list[ParsedRow]:
        out = []
        for r in rows:
            v = r.values
            if not v["building_code"].startswith(v["estate_code"]):
                self.reject(
                    r,
                    [
                        RowError(
                            r.number,
                            "楼栋编码",
                            "code_parent_mismatch",
                            _("The building code must start with its estate code."),
                        )
                    ],
                )
                continue
            if v.get("room_code") and not v["room_code"].startswith(v["building_code"]):
                self.reject(
                    r,
                    [
                        RowError(
                            r.number,
                            "房屋编码",
                            "code_parent_mismatch",
                            _("The room code must start with its building code."),
                        )
                    ],
                )
                continue
            out.append(r)
        return out

    def _place(self, rows: list[ParsedRow]) -> list[ParsedRow]:
        # Addresses are placed by their building's location only.
        for r in rows:
            r.values.pop("grid_code", None)
            r.values.pop("room_code_for_place", None)
        saved = [(r, r.values.pop("room_code", None)) for r in rows]
        placed = super()._place(rows)
        for r, code in saved:
            r.values["room_code"] = code
        return placed

    def write(self, rows: list[ParsedRow]) -> None:
        estates = {
            e.code: e
            for e in Estate.objects.dangerously_unscoped().filter(
                code__in={r.values["estate_code"] for r in rows}
            )
        }
        buildings = {
            b.code: b
            for b in Building.objects.dangerously_unscoped().filter(
                code__in={r.values["building_code"] for r in rows}
            )
        }
        rooms = set(
            Room.objects.dangerously_unscoped()
            .filter(code__in={r.values["room_code"] for r in rows if r.values.get("room_code")})
            .values_list("code", flat=True)
        )
        for r in rows:
            v = r.values
            estate = estates.get(v["estate_code"])
            if estate is None:
                estate = Estate.objects.create(
                    code=v["estate_code"], name=v["estate_name"], grid_code=v["grid"]
                )
                estates[estate.code] = estate
            building = buildings.get(v["building_code"])
            created = False
            if building is None:
                building = Building.objects.create(
                    code=v["building_code"],
                    estate=estate,
                    name=v["building_name"],
                    address=v["address"],
                    lon=v["lon"],
                    lat=v["lat"],
                    grid_code=v["grid"],
                    floors=v.get("floors") or 1,
                    units=v.get("units") or 1,
                )
                buildings[building.code] = building
                created = True
            if v.get("room_code"):
                if v["room_code"] in rooms:
                    self.result.skipped += 1
                    self.warn(
                        r,
                        "房屋编码",
                        "duplicate",
                        _("This room is already in the ledger; skipped."),
                    )
                    continue
                Room.objects.create(
                    code=v["room_code"],
                    building=building,
                    unit=v.get("unit") or 1,
                    number=v.get("number") or v["room_code"][-4:],
                    floor=v.get("floor") or 1,
                    area_m2=v.get("area_m2"),
                    use=v.get("use") or "own",
                    grid_code=building.grid_code,
                )
                rooms.add(v["room_code"])
                self.result.inserted += 1
            elif created:
                self.result.inserted += 1
            else:
                self.result.skipped += 1
                self.warn(
                    r,
                    "楼栋编码",
                    "duplicate",
                    _("This building is already in the ledger; skipped."),
                )


IMPORTERS: dict[str, type[Importer]] = {
    "people": PeopleImporter,
    "organisations": OrganisationImporter,
    "addresses": AddressImporter,
    "things": ThingImporter,
}


def ledger_import(*, actor: Any, kind: str, table: Table, **options: Any) -> LedgerImportResult:
    if kind not in IMPORTERS:
        raise ValidationFailed(f"unknown kind {kind}", code="bad_kind")
    return IMPORTERS[kind](actor=actor, **options).run(table)


def template(kind: str) -> bytes:
    from wangge.core.tabular import write_xlsx

    columns = cols.KINDS[kind]
    notes = [[c.header, "是" if c.required else "否", "、".join(c.aliases)] for c in columns]
    return write_xlsx(
        [
            (kind, [c.header for c in columns], []),
            ("说明", ["列", "必填", "可用的其他列名"], notes),
        ]
    )
