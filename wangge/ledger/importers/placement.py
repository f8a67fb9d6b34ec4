"""Putting imported rows in a grid: the grid-code column, else a standard address code, else
longitude and latitude through the vectorised locate. A grid outside the actor's scope reads as
unknown. The people fast path places what it can in its parsing process (`place_prepared`,
no database there); the rest is placed here in the main process (`place_rows`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from django.utils.translation import gettext as _

from wangge.core.tabular import ParsedRow, RowError
from wangge.ledger.models import Room


def _unknown_address(number: int) -> RowError:
    return RowError(number, "地址编码", "unknown_address", _("No standard address has this code."))


def _grid_mismatch(number: int, grid: str) -> RowError:
    return RowError(
        number,
        "网格编码",
        "grid_mismatch",
        _("The grid code and the address's grid (%(grid)s) differ.") % {"grid": grid},
    )


def _outside_grids(number: int) -> RowError:
    return RowError(number, "经度", "outside_grids", _("This location lies outside every grid."))


def _no_grid(number: int) -> RowError:
    return RowError(
        number,
        "网格编码",
        "no_grid",
        _("Give a grid code, a standard address code, or longitude and latitude."),
    )


def _unknown_grid(number: int, grid: str) -> RowError:
    return RowError(
        number,
        "网格编码",
        "unknown_grid",
        _("Grid %(code)s does not exist or is outside your scope.") % {"code": grid},
    )


def place_rows(
    rows: list[ParsedRow],
    *,
    grids: set[str],
    reject: Callable[[ParsedRow, list[RowError]], None],
) -> list[ParsedRow]:
    """The rows that have a grid in `grids` (set as values["grid"]); the others are passed to
    `reject` with the reason. Rows the parsing process placed already are kept as they are."""
    done = [r for r in rows if "grid" in r.values]
    if len(done) == len(rows):
        return rows
    placed_early = {id(r) for r in done}
    rest = [r for r in rows if id(r) not in placed_early]
    room_codes = {r.values.get("room_code") for r in rest} - {None}
    rooms: dict[str, tuple[int, str]] = {}
    if room_codes:
        rooms = {
            code: (pk, grid)
            for pk, code, grid in Room.objects.dangerously_unscoped()
            .filter(code__in=room_codes)
            .values_list("pk", "code", "grid_code")
        }
    need_locate = [
        r
        for r in rest
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
    for r in rest:
        v = r.values
        grid = v.get("grid_code") or ""
        if v.get("room_code"):
            room = rooms.get(v["room_code"])
            if room is None:
                reject(r, [_unknown_address(r.number)])
                continue
            if grid and grid != room[1]:
                reject(r, [_grid_mismatch(r.number, room[1])])
                continue
            v["room_id"], grid = room
        elif not grid and "located" in v:
            grid = v["located"]
            if not grid:
                reject(r, [_outside_grids(r.number)])
                continue
        if not grid:
            reject(r, [_no_grid(r.number)])
            continue
        if grid not in grids:
            reject(r, [_unknown_grid(r.number, grid)])
            continue
        v["grid"] = grid
        placed.append(r)
    return done + placed


# Where the prepared (slim) rows keep the placement inputs; see prepare.SLIM_KEYS.
GRID_AT, ROOM_AT, LON_AT, LAT_AT = 0, 1, 2, 3


def place_prepared(rows: list[Any], *, grids: set[str] | None, index: Any) -> list[Any]:
    """Place prepared rows (number, slim tuple, cells) where no database is needed (grid code,
    lon/lat): placed rows become (number, slim + grid), failures ParsedRows with the reason;
    rows with a standard address code are left to the main process (number, slim), which looks
    the address up. Without grids and index (not set) nothing is placed here."""
    if grids is None or index is None:
        return [r[:2] if not isinstance(r, ParsedRow) else r for r in rows]
    locate = [
        i
        for i, r in enumerate(rows)
        if not isinstance(r, ParsedRow)
        and not r[1][GRID_AT]
        and not r[1][ROOM_AT]
        and r[1][LON_AT] is not None
        and r[1][LAT_AT] is not None
    ]
    located: dict[int, str | None] = {}
    if locate:
        codes = index.codes_for(
            index.locate(
                np.array([rows[i][1][LON_AT] for i in locate]),
                np.array([rows[i][1][LAT_AT] for i in locate]),
            )
        )
        located = dict(zip(locate, codes, strict=True))
    out: list[Any] = []
    for i, r in enumerate(rows):
        if isinstance(r, ParsedRow):
            out.append(r)
            continue
        number, slim, cells = r
        if slim[ROOM_AT]:
            out.append((number, slim))
            continue
        grid = slim[GRID_AT] or located.get(i)
        error = None
        if not slim[GRID_AT] and i in located and not grid:
            error = _outside_grids(number)
        elif not grid:
            error = _no_grid(number)
        elif grid not in grids:
            error = _unknown_grid(number, grid)
        if error is not None:
            out.append(ParsedRow(number, cells, {}, [error]))
            continue
        out.append((number, (*slim, grid)))
    return out
