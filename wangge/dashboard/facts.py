"""Keeping the dashboard's facts: the events aggregated per day at four region levels, and the
other modules' per-grid figures.

`facts_refresh()` runs in the worker (every `WANGGE_DASHBOARD_FACTS_SECONDS`): it rebuilds the
days whose events changed since its watermark. `facts_rebuild()` rebuilds any range from the
events; both are idempotent (a day is deleted and written again in one transaction), so the
facts never depend on how often or in which order they ran.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from wangge.core import jobs
from wangge.core.db.timeouts import lift_statement_timeout
from wangge.core.scope import Scope
from wangge.dashboard.models import CUBES, EventFact, FactState, GridFigure
from wangge.events import selectors as events_selectors

log = logging.getLogger(__name__)

# An event's transaction may commit a little after the moment it wrote in `updated_at`: each
# refresh looks this far behind its watermark again (rebuilding a day twice changes nothing).
LOOKBACK = dt.timedelta(minutes=5)
STATE = "events"


def local_day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Local midnight of `day` and of the next day, as aware datetimes."""
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(dt.datetime.combine(day, dt.time()), tz)
    end = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()), tz)
    return start, end


def _compiled(qs: Any) -> tuple[str, list[Any]]:
    sql, params = qs.query.get_compiler(using=qs.db).as_sql()
    return sql, list(params)


def _cube_insert(name: str, start: dt.datetime, end: dt.datetime) -> tuple[str, list[Any]]:
    """One statement that writes a cube's rows for the events of [start, end): the events
    selector's aggregate per grid (its SQL, as Django compiles it), summed into each level.
    Every name in the statement comes from CUBES; every value is a parameter."""
    model, dims, measures, levels = CUBES[name]
    queries = events_selectors.fact_queries_unscoped(start, end, dims, measures)
    keys = ("day", "grid_code", "department_code", *dims)
    cols = ", ".join(keys)
    parts, params = [], []
    for part, qs in queries.items():
        sql, p = _compiled(qs)
        have = set(qs.query.annotations)
        values = ", ".join(f"m_{m}" if f"m_{m}" in have else f"0 AS m_{m}" for m in measures)
        parts.append(f"SELECT {cols}, {values} FROM ({sql}) {part}_rows")  # noqa: S608 - identifiers are CUBES' own column names and level numbers, never input; every value is a bound parameter
        params += p
    if len(parts) == 1:
        base = parts[0]
    else:
        sums = ", ".join(f"SUM(m_{m}) AS m_{m}" for m in measures)
        base = f"SELECT {cols}, {sums} FROM ({' UNION ALL '.join(parts)}) u GROUP BY {cols}"  # noqa: S608 - identifiers are CUBES' own column names and level numbers, never input; every value is a bound parameter
    dim_cols = "".join(f", {d}" for d in dims)
    dim_values = "".join(f", {d}" if d == "category_id" else f", COALESCE({d}, '')" for d in dims)
    sums = ", ".join(f"COALESCE(SUM(m_{m}), 0)" for m in measures)
    group = "".join(f", {d}" for d in dims)
    selects = " UNION ALL ".join(
        f"SELECT {level}, SUBSTR(grid_code, 1, {level}), day, COALESCE(department_code, '')"  # noqa: S608 - identifiers are CUBES' own column names and level numbers, never input; every value is a bound parameter
        f"{dim_values}, {sums} FROM base WHERE LENGTH(grid_code) >= {level}"
        f" GROUP BY SUBSTR(grid_code, 1, {level}), day, department_code{group}"
        for level in levels
    )
    table = model._meta.db_table
    target = ", ".join(("level", "region_code", "day", "department_code")) + dim_cols
    target += "".join(f", {m}" for m in measures)
    # INSERT first, its SELECT with the CTE: a statement that starts with WITH has no row count
    # in Python's sqlite3.
    sql = f"INSERT INTO {table} ({target}) WITH base AS MATERIALIZED ({base}) {selects}"
    return sql, params


def rebuild_day(day: dt.date) -> int:
    """Rebuild one day's facts from the events; returns the number of fact rows written."""
    return rebuild_range(day, day)


def rebuild_range(first: dt.date, last: dt.date) -> int:
    """Rebuild the facts of the days first..last (inclusive) from the events, one statement
    per cube, in one transaction; returns the number of fact rows written."""
    start, _ = day_bounds(first)
    _, end = day_bounds(last)
    rows = 0
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A month of a city's events is grouped in memory, not in sorted runs on disk.
            cursor.execute(
                "SELECT set_config('work_mem', %s, true)", [settings.DASHBOARD_FACTS_WORK_MEM]
            )
        # A month of a city's events is a minute's work, past the requests' statement timeout.
        lift_statement_timeout(cursor)
        for name, (model, _dims, _measures, levels) in CUBES.items():
            # By level and day: the cube's one index serves the delete.
            model.objects.dangerously_unscoped().filter(
                level__in=levels, day__gte=first, day__lte=last
            ).delete()
            sql, params = _cube_insert(name, start, end)
            cursor.execute(sql, params)
            rows += max(cursor.rowcount, 0)
    return rows


def _runs(days: Iterable[dt.date], longest: int = 31) -> list[tuple[dt.date, dt.date]]:
    """Consecutive days as (first, last) runs of at most `longest` days."""
    runs: list[tuple[dt.date, dt.date]] = []
    for day in sorted(set(days)):
        if runs and (day - runs[-1][1]).days == 1 and (day - runs[-1][0]).days < longest:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def rebuild_days(days: Iterable[dt.date], progress: Any = None) -> int:
    rows = 0
    for i, (first, last) in enumerate(_runs(days)):
        rows += rebuild_range(first, last)
        if progress:
            progress(i + 1)
    return rows


def _days_of(pairs: Iterable[tuple[Any, Any]]) -> set[dt.date]:
    days: set[dt.date] = set()
    for created, closed in pairs:
        days.add(local_day(created))
        if closed is not None:
            days.add(local_day(closed))
    return days


def facts_rebuild(
    since: dt.date | None = None, until: dt.date | None = None, *, progress: Any = None
) -> dict[str, int]:
    """Rebuild the facts of every day in [since, until] (both inclusive; the whole history when
    omitted) from the events, and move the watermark to what was read."""
    now = timezone.now()
    first, last = events_selectors.event_span_unscoped()
    days = set(_range(local_day(first), local_day(last))) if first and last else set()
    if since is None and until is None:
        # Days that have facts but no events any more (a restored database) are cleared too.
        # From the primary: a replica's copy may lag behind what this rebuild overwrites.
        days |= set(
            EventFact.objects.dangerously_unscoped()
            .using("default")
            .values_list("day", flat=True)
            .distinct()
        )
    if since is not None:
        days = {d for d in days if d >= since} | set(_range(since, until or local_day(now)))
    if until is not None:
        days = {d for d in days if d <= until}
    rows = rebuild_days(days, progress)
    if since is None and until is None:
        # Every row is new: the planner's statistics are too (or it reads a cube by its day
        # alone, through all four levels).
        with transaction.atomic(), connection.cursor() as cursor:
            lift_statement_timeout(cursor)
            for model, *_rest in CUBES.values():
                cursor.execute(f"ANALYZE {model._meta.db_table}")
        FactState.objects.update_or_create(
            name=STATE, defaults={"events_seen_until": now, "rebuilt_at": now}
        )
    return {"days": len(days), "rows": rows}


def _range(since: dt.date, until: dt.date) -> list[dt.date]:
    return [since + dt.timedelta(days=i) for i in range((until - since).days + 1)]


def facts_refresh(now: dt.datetime | None = None) -> dict[str, int]:
    """Rebuild the days whose events changed since the watermark (the worker's cycle)."""
    now = now or timezone.now()
    state = FactState.objects.filter(name=STATE).first()
    if state is None or state.events_seen_until is None:
        return facts_rebuild()
    since = state.events_seen_until - LOOKBACK
    pairs, _newest = events_selectors.touched_unscoped(since)
    days = _days_of(pairs)
    rows = rebuild_days(days)
    FactState.objects.filter(pk=state.pk).update(events_seen_until=now)
    return {"days": len(days), "rows": rows}


# --- the other modules' per-grid figures -----------------------------------------------------


def figure_sources() -> list[Any]:
    """The per-grid figure selectors of the modules below (each `(*, actor) -> {grid: {key:
    value}}`), in the order the map offers them."""
    from wangge.campaigns.selectors import grid_figures as campaign_figures
    from wangge.ledger.selectors import grid_figures as ledger_figures
    from wangge.teams.selectors import grid_figures as team_figures

    return [ledger_figures, team_figures, campaign_figures]


def figures_refresh(now: dt.datetime | None = None) -> int:
    """Take every module's per-grid figures again (as the system: the dashboard scopes what it
    shows). Returns the number of figures kept."""
    now = now or timezone.now()
    system = Scope.system("dashboard")
    figures: dict[tuple[str, str], float] = {}
    for source in figure_sources():
        for grid, values in source(actor=system).items():
            for key, value in values.items():
                figures[(grid, key)] = float(value or 0)
    with transaction.atomic():
        GridFigure.objects.dangerously_unscoped().delete()
        GridFigure.objects.bulk_create(
            [
                GridFigure(grid_code=g, key=k, value=v, taken_at=now)
                for (g, k), v in figures.items()
            ],
            batch_size=2000,
        )
        FactState.objects.update_or_create(name=STATE, defaults={"figures_taken_at": now})
    return len(figures)


def _periodic(**_kw: Any) -> dict[str, int]:
    result = facts_refresh()
    state = FactState.objects.filter(name=STATE).first()
    taken = state.figures_taken_at if state else None
    if taken is None or timezone.now() - taken >= dt.timedelta(
        seconds=settings.DASHBOARD_FIGURES_SECONDS
    ):
        result["figures"] = figures_refresh()
    return result


def register() -> None:
    jobs.register_periodic("dashboard.facts", settings.DASHBOARD_FACTS_SECONDS, _periodic)
