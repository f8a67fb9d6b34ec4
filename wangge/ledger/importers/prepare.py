"""The people fast path's parsing side (runs in a parsing process, or in-process without one):
parse, check, encrypt and blind-index a batch, place it where no database is needed, and send
back only what the main process needs, as tuples (far cheaper between processes than objects).
"""

from __future__ import annotations

from typing import Any

from wangge.core.crypto import keyring
from wangge.core.personal import normalise
from wangge.core.tabular import CsvRange, ParsedRow, RowPlan, parse_row, read_csv_range
from wangge.ledger import columns as cols
from wangge.ledger.fields import blank_value, person_plain_fields
from wangge.ledger.importers.common import ID_CONTEXT, OVERRIDABLE, PHONE_CONTEXT, field_context
from wangge.ledger.importers.placement import place_prepared
from wangge.ledger.models import Person

# A batch to prepare: rows as read (or a slice of the CSV file to read them from), the column
# positions, and whether check-digit failures are accepted (supervised override).
Task = tuple[list[tuple[int, list[Any]]] | CsvRange, dict[str, int], bool]

# The person fields copied as parsed, with what an empty cell stores (the one field list).
PLAIN = [(f, blank_value(Person, f)) for f in person_plain_fields()]

# Set by the importer before it forks: the grids the actor may write to, and the locate index.
PLACE: dict[str, Any] = {}


def prepare(task: Task) -> list[Any]:
    source, mapping, override = task
    rows = read_csv_range(source) if isinstance(source, CsvRange) else source
    return prepare_people(rows, mapping, override)


def prepare_people(
    raw_rows: list[tuple[int, list[Any]]], mapping: dict[str, int], override: bool
) -> list[Any]:
    """Parse, check, encrypt and blind-index one batch of people.

    Rows that pass carry everything the database needs except the grid when it takes the
    database to find it (a standard address code), and lose their raw cells (less to send
    back); rows that fail are ParsedRows with their cells, for the error file."""
    ring = keyring()
    id_field = field_context(Person, "id_number")
    phone_field = field_context(Person, "phone")
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
            # The order of people.PeopleImporter.FIELDS (after grid_code; room_id is added last).
            "record": [
                values["name"],
                values.get("gender") or (parsed.gender if parsed is not None else ""),
                birth.isoformat() if birth else None,
                ring.encrypt(id_value, context=id_field),
                id_index,
                parsed is not None,
                ring.encrypt(phone, context=phone_field) if phone else "",
                ring.blind_index(phone, context=PHONE_CONTEXT) if phone else "",
                values.get("relation") or "",
                ",".join(values.get("care_tags") or []),
                *[
                    value if (value := values.get(f.key)) not in (None, "") else blank
                    for f, blank in PLAIN
                ],
            ],
        }
        if values.get("overridden"):
            slim["overridden"] = True
        out.append((number, tuple(slim.get(k) for k in SLIM_KEYS[:-1]), cells))
    return place_prepared(out, grids=PLACE.get("grids"), index=PLACE.get("index"))


# The order of a prepared row's tuple; placement.GRID_AT … LAT_AT index its first four.
SLIM_KEYS = (
    "grid_code", "room_code", "lon", "lat", "id_index", "household", "relation",
    "special_tags", "record", "overridden", "grid",
)  # fmt: skip


_SLIM_INDEX = {key: i for i, key in enumerate(SLIM_KEYS)}


class SlimValues:
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


def unpack(prepared: list[Any]) -> list[ParsedRow]:
    """Prepared output → parsed rows."""
    return [
        item if isinstance(item, ParsedRow) else ParsedRow(item[0], [], SlimValues(item[1]), [])  # type: ignore[arg-type]
        for item in prepared
    ]
