"""The dashboard's reads. Each takes the actor: the facts are scoped like the events they
count (region and department), the per-grid figures by the permission of the module they come
from, and the live numbers are the events module's own selectors.

Periods are dates: `since` inclusive, `until` exclusive (as on the indicators page). A
period's numbers count the events *created* in it (the indicators' definition), except
`closed_on_day` (events closed in it).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db.models import F, Q, Sum
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wangge.core.errors import ValidationFailed
from wangge.core.roles import Perm
from wangge.core.scope import Scope, require_any
from wangge.core.selectors import department_names
from wangge.dashboard.models import (
    COHORT,
    CUBES,
    LEVELS,
    MEASURES,
    EventCategoryFact,
    EventChannelFact,
    EventDepartmentFact,
    EventFact,
    GridFigure,
)
from wangge.events import selectors as events
from wangge.events.models import Channel
from wangge.regions.selectors import region_names_unscoped

# The event counts, and the measures summed over fact rows (all of an EventFact's).
COUNTS = COHORT[: COHORT.index("handling_seconds")]
SUMS = MEASURES
# What the rankings compare.
RANKED = (
    "should_close",
    "closed",
    "closed_on_time",
    "overdue",
    "returned",
    "handling_seconds",
    "handled",
)

LEVEL_NAMES = {6: "district", 9: "street", 12: "community", 15: "grid"}
LEVEL_BY_NAME = {v: k for k, v in LEVEL_NAMES.items()}
LEVEL_LABELS = {
    6: gettext_lazy("District"),
    9: gettext_lazy("Street"),
    12: gettext_lazy("Community"),
    15: gettext_lazy("Grid"),
}

# The map's indicators: where the number comes from, whether more is worse (the palette's
# direction), its unit, and the permission a figure from another module needs.
INDICATORS: dict[str, dict[str, Any]] = {
    "open": {"label": gettext_lazy("Open events"), "source": "live", "worse": "high"},
    "overdue": {"label": gettext_lazy("Overdue events"), "source": "live", "worse": "high"},
    "reported": {"label": gettext_lazy("Events reported"), "source": "facts", "worse": "high"},
    "on_time_rate": {
        "label": gettext_lazy("Closed on time (按期结案率)"),
        "source": "facts",
        "worse": "low",
        "unit": "%",
    },
    "close_rate": {
        "label": gettext_lazy("Closed (结案率)"),
        "source": "facts",
        "worse": "low",
        "unit": "%",
    },
    "per_1000": {
        "label": gettext_lazy("Events per 1,000 residents"),
        "source": "facts",
        "worse": "high",
        "perm": Perm.LEDGER_VIEW,
    },
    "completeness": {
        "label": gettext_lazy("Ledger completeness"),
        "source": "figures",
        "worse": "low",
        "unit": "%",
        "perm": Perm.CAMPAIGNS_VIEW,
    },
    "campaign_progress": {
        "label": gettext_lazy("Campaign progress"),
        "source": "figures",
        "worse": "low",
        "unit": "%",
        "perm": Perm.CAMPAIGNS_VIEW,
    },
    "no_leader": {
        "label": gettext_lazy("Grids without a leader"),
        "source": "figures",
        "worse": "high",
        "perm": Perm.TEAMS_VIEW,
    },
    "over_capacity": {
        "label": gettext_lazy("Workers over capacity"),
        "source": "figures",
        "worse": "high",
        "perm": Perm.TEAMS_VIEW,
    },
    "care_people": {
        "label": gettext_lazy("People in care groups"),
        "source": "figures",
        "worse": "none",
        "perm": Perm.LEDGER_VIEW,
    },
}
# Figures summed over a region, and the rates made of two sums (numerator, denominator).
FIGURE_SUMS = {"no_leader", "over_capacity", "care_people", "residents"}
FIGURE_RATES = {
    "completeness": ("people_complete", "people_total"),
    "campaign_progress": ("campaign_done", "campaign_total"),
}
CLASSES = 5


# --- scope and periods -----------------------------------------------------------------------


def dashboard_scope(actor: Any) -> Scope:
    """The actor's scope if they may see the dashboard (NotFound otherwise)."""
    scope = require_any(actor, Perm.DASHBOARD_VIEW)
    require_any(scope, Perm.EVENTS_VIEW)
    return scope


def default_period(today: dt.date | None = None, days: int = 30) -> tuple[dt.date, dt.date]:
    """The last `days` days up to today: (since, until) with `until` exclusive."""
    today = today or timezone.localdate()
    return today - dt.timedelta(days=days - 1), today + dt.timedelta(days=1)


def check_period(since: dt.date, until: dt.date) -> None:
    if until <= since:
        raise ValidationFailed(
            _("The end of the period must come after its start."),
            code="bad_period",
            details={"since": since.isoformat(), "until": until.isoformat()},
        )
    if (until - since).days > 3700:
        raise ValidationFailed(
            _("A period can be at most ten years long."), code="bad_period", details={}
        )


def level_for(scope: Scope, want: int = 0) -> int:
    """The fact level to read: at least `want`, and at least as fine as every grant's code, so
    that the scope's prefix filter is exact on every fact row."""
    longest = max((len(g.region_code) for g in scope.grants_for(Perm.EVENTS_VIEW)), default=6)
    need = max(want, longest)
    return next(level for level in LEVELS if level >= need) if need <= 15 else 15


def _parent_level(parent: str) -> int:
    return len(parent) if parent else 0


def check_parent(scope: Scope, parent: str) -> str:
    """A region code the actor may look into ('' for their whole scope). Out of scope or not a
    region code: a validation error that names no region."""
    parent = (parent or "").strip()
    if not parent:
        return ""
    if len(parent) not in (4, *LEVELS) or not parent.isdigit():
        raise ValidationFailed(
            _("Not a region code: %(code)s") % {"code": parent[:20]}, code="bad_region"
        )
    if not scope.is_system and not any(
        parent.startswith(g.region_code) or g.region_code.startswith(parent)
        for g in scope.grants_for(Perm.EVENTS_VIEW)
    ):
        raise ValidationFailed(
            _("Not a region code: %(code)s") % {"code": parent[:20]}, code="bad_region"
        )
    return parent


def _facts(
    scope: Scope, *, level: int, since: dt.date, until: dt.date, parent: str, model: Any = EventFact
) -> Any:
    qs = (
        model.objects.visible_to(scope, Perm.EVENTS_VIEW)
        .filter(level=level, day__gte=since, day__lt=until)
        .order_by()
    )
    if parent:
        qs = qs.filter(region_code__startswith=parent)
    return qs


def _cube_rows(
    scope: Scope,
    model: Any,
    dim: str,
    measures: tuple[str, ...],
    level: int,
    since: dt.date,
    until: dt.date,
    parent: str,
) -> list[dict[str, Any]]:
    """The measures per `dim` from a narrow cube, or — at a level finer than the cube keeps
    (a community's or a grid's, a handful of events a day) — from the events themselves, with
    the same cohort measures."""
    kept = next(levels for m, _d, _ms, levels in CUBES.values() if m is model)
    if level in kept:
        qs = _facts(scope, level=level, since=since, until=until, parent=parent, model=model)
        return _sums(qs, dim, measures=measures)
    start, end = _local_midnight(since), _local_midnight(until)
    return events.cohort_by(
        actor=scope, dim=dim, since=start, until=end, grid=parent, measures=measures
    )


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()), timezone.get_current_timezone())


def _sums(qs: Any, *group: str, measures: tuple[str, ...] = SUMS) -> list[dict[str, Any]]:
    """The measures summed per `group` (one row in all without a group)."""
    if not group:
        return [qs.aggregate(**{m: Sum(m) for m in measures})]
    return list(qs.values(*group).annotate(**{m: Sum(m) for m in measures}))


def _by_region(
    qs: Any, width: int, measures: tuple[str, ...] = SUMS, *, level: int = 0
) -> dict[str, dict[str, Any]]:
    """The measures summed per region code cut to `width` (in SQL: one row per region); rows
    of that very `level` are grouped by their code as it is."""
    key = F("region_code") if width == level else Substr("region_code", 1, width)
    rows = qs.annotate(key=key).values("key")
    return {
        row.pop("key"): {m: row[m] or 0 for m in measures}
        for row in rows.annotate(**{m: Sum(m) for m in measures})
    }


def _rates(row: dict[str, Any], measures: tuple[str, ...] = SUMS) -> dict[str, Any]:
    n = row.get("should_close") or 0
    handled = row.get("handled") or 0
    return {m: int(row.get(m) or 0) for m in measures} | {
        "close_rate": round(row["closed"] / n, 4) if n else None,
        "on_time_rate": round(row["closed_on_time"] / n, 4) if n else None,
        "avg_handling_hours": round(row["handling_seconds"] / handled / 3600, 1)
        if handled
        else None,
    }


def _blank() -> dict[str, Any]:
    return dict.fromkeys(SUMS, 0)


class RegionLinks:
    """Links that differ only in a region code (a ranking's or a map's thousands of rows):
    the URL reversed and the rest of the query encoded once."""

    def __init__(self, url: str, key: str, **params: Any) -> None:
        clean = {k: v for k, v in params.items() if v not in (None, "")}
        self.head = f"{url}?{urlencode(clean)}&{key}=" if clean else f"{url}?{key}="

    def __call__(self, code: str) -> str:
        return self.head + quote(code, safe="")


def inbox_links(**params: Any) -> RegionLinks:
    """inbox_href(grid=code, **params) for many codes."""
    params.setdefault("box", "all")
    return RegionLinks(reverse("events:inbox"), "grid", **params)


def inbox_href(**params: Any) -> str:
    """A link to the events inbox showing what a number counts."""
    clean = {k: v for k, v in params.items() if v not in (None, "")}
    clean.setdefault("box", "all")
    return f"{reverse('events:inbox')}?{urlencode(clean)}"


def _period_params(since: dt.date, until: dt.date) -> dict[str, str]:
    return {"since": since.isoformat(), "until": until.isoformat()}


# --- panels ----------------------------------------------------------------------------------


def summary(*, actor: Any, since: dt.date, until: dt.date, parent: str = "") -> dict[str, Any]:
    """The headline numbers: now (open, overdue — live) and in the period (from the facts)."""
    scope = dashboard_scope(actor)
    check_period(since, until)
    parent = check_parent(scope, parent)
    level = level_for(scope, _parent_level(parent))
    rows = _sums(_facts(scope, level=level, since=since, until=until, parent=parent))
    period = _rates(rows[0] if rows and rows[0]["reported"] is not None else _blank())
    now = events.open_totals(actor=scope, grid=parent)
    only = parent or None
    p = _period_params(since, until)
    return {
        "parent": parent,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "now": now
        | {
            "open_href": inbox_href(box="all", open="1", grid=only),
            "overdue_href": inbox_href(box="overdue", grid=only),
        },
        "period": period
        | {
            "reported_href": inbox_href(grid=only, **p),
            "closed_href": inbox_href(box="closed", grid=only, **p),
        },
        "target_on_time_rate": settings.DASHBOARD_ON_TIME_TARGET,
    }


def _children_level(scope: Scope, parent: str, level: str) -> int:
    if level:
        if level not in LEVEL_BY_NAME:
            raise ValidationFailed(
                code="unknown_level", details={"level": level, "known": list(LEVEL_BY_NAME)}
            )
        want = LEVEL_BY_NAME[level]
        if parent and want <= len(parent):
            raise ValidationFailed(
                _("The level must lie below the region."), code="bad_level", details={}
            )
        return want
    if parent:
        return next((lv for lv in LEVELS if lv > len(parent)), 15)
    roots = scope.roots(Perm.EVENTS_VIEW)
    if len(roots) == 1:
        return next((lv for lv in LEVELS if lv > len(roots[0])), 15)
    return level_for(scope)


def _figures(scope: Scope, keys: set[str], perm: Perm, parent: str) -> dict[str, dict[str, float]]:
    qs = GridFigure.objects.visible_to(scope, perm).filter(key__in=keys).order_by()
    if parent:
        qs = qs.filter(grid_code__startswith=parent)
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for grid, key, value in qs.values_list("grid_code", "key", "value"):
        out[grid][key] = value
    return out


def region_map(
    *,
    actor: Any,
    indicator: str,
    since: dt.date,
    until: dt.date,
    parent: str = "",
    level: str = "",
) -> dict[str, Any]:
    """One value per region of a level under `parent` (the children of `parent` by default),
    with the classes of the legend. A region nobody counted has value None."""
    scope = dashboard_scope(actor)
    check_period(since, until)
    if indicator not in INDICATORS:
        raise ValidationFailed(
            code="unknown_indicator", details={"indicator": indicator, "known": list(INDICATORS)}
        )
    spec = INDICATORS[indicator]
    perm = spec.get("perm")
    if perm is not None and not scope.has(perm):
        raise ValidationFailed(
            _("This indicator is not available to you."), code="indicator_not_available"
        )
    parent = check_parent(scope, parent)
    width = _children_level(scope, parent, level)
    values: dict[str, float | None] = {}
    counts: dict[str, Any] = {}
    p = _period_params(since, until)
    if spec["source"] == "live":
        live = events.open_counts(actor=scope, width=width, grid=parent)
        values = {k: float(c[indicator]) for k, c in live.items()}
    elif indicator in ("reported", "on_time_rate", "close_rate", "per_1000"):
        fact_level = level_for(scope, width)
        per = _by_region(
            _facts(scope, level=fact_level, since=since, until=until, parent=parent),
            width,
            level=fact_level,
        )
        if indicator == "per_1000":
            residents: dict[str, float] = defaultdict(float)
            for grid, figs in _figures(scope, {"residents"}, Perm.LEDGER_VIEW, parent).items():
                residents[grid[:width]] += figs.get("residents", 0)
            for key, n in residents.items():
                reported = per[key]["reported"] if key in per else 0
                values[key] = round(1000 * reported / n, 2) if n else None
                counts[key] = {"reported": reported, "residents": int(n)}
        else:
            for key, region_sums in per.items():
                r = _rates(region_sums)
                values[key] = (
                    float(r["reported"])
                    if indicator == "reported"
                    else (round(100 * r[indicator], 1) if r[indicator] is not None else None)
                )
                counts[key] = {"reported": r["reported"], "should_close": r["should_close"]}
    else:
        keys = set(FIGURE_RATES.get(indicator, (indicator,)))
        totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for grid, figs in _figures(scope, keys, perm or Perm.EVENTS_VIEW, parent).items():
            for k, v in figs.items():
                totals[grid[:width]][k] += v
        for key, figs in totals.items():
            if indicator in FIGURE_RATES:
                num, den = FIGURE_RATES[indicator]
                values[key] = round(100 * figs[num] / figs[den], 1) if figs.get(den) else None
                counts[key] = {num: int(figs.get(num, 0)), den: int(figs.get(den, 0))}
            else:
                values[key] = figs.get(indicator, 0.0)
    names = region_names_unscoped([*values, parent] if parent else values)
    link = _region_links(indicator, width, p)
    regions: list[dict[str, Any]] = []
    for code in sorted(values):
        regions.append(
            {
                "code": code,
                "name": names.get(code, code),
                "value": values[code],
                "detail": counts.get(code) if isinstance(counts.get(code), dict) else None,
                "href": link(code),
            }
        )
    return {
        "indicator": indicator,
        "label": str(spec["label"]),
        "unit": spec.get("unit", ""),
        "worse": spec["worse"],
        "parent": parent,
        "parent_name": names.get(parent, "") if parent else "",
        "level": LEVEL_NAMES[width],
        "since": since.isoformat(),
        "until": until.isoformat(),
        "regions": regions,
        "breaks": breaks([r["value"] for r in regions if r["value"] is not None]),
    }


def _region_links(indicator: str, width: int, p: dict[str, str]) -> Any:
    """Where a region's number leads: the region's own map one level down, and from a grid,
    the list of what it counts."""
    if width < 15:
        return RegionLinks(reverse("dashboard:home"), "parent", indicator=indicator, **p)
    if indicator == "open":
        return inbox_links(box="all", open="1")
    if indicator == "overdue":
        return inbox_links(box="overdue")
    if indicator in ("reported", "on_time_rate", "close_rate", "per_1000"):
        return inbox_links(**p)
    return lambda code: reverse("regions:detail", args=[code])


def breaks(values: list[float], classes: int = CLASSES) -> list[float]:
    """Class limits for the legend: the quantiles of the values, deduplicated (fewer classes
    when the values take fewer distinct levels). Values ≤ breaks[0] are class 0, and so on."""
    if not values:
        return []
    ordered = sorted(values)
    cuts: list[float] = []
    for i in range(1, classes):
        cut = ordered[min(len(ordered) - 1, (i * len(ordered)) // classes)]
        if not cuts or cut > cuts[-1]:
            cuts.append(cut)
    if ordered[-1] > (cuts[-1] if cuts else ordered[0] - 1):
        cuts.append(ordered[-1])
    return [round(c, 2) for c in cuts]


def trend(
    *, actor: Any, since: dt.date, until: dt.date, parent: str = "", interval: str = "day"
) -> dict[str, Any]:
    """Events reported and closed per day (or week, Monday first) with the 7-day average, and
    结案率 / 按期结案率 of each day's (week's) events, against the target."""
    scope = dashboard_scope(actor)
    check_period(since, until)
    if interval not in ("day", "week"):
        raise ValidationFailed(code="unknown_interval", details={"known": ["day", "week"]})
    parent = check_parent(scope, parent)
    level = level_for(scope, _parent_level(parent))
    start = since - dt.timedelta(days=6)  # the first days' 7-day averages
    by_day = {
        row["day"]: row
        for row in _sums(_facts(scope, level=level, since=start, until=until, parent=parent), "day")
    }
    days = [start + dt.timedelta(days=i) for i in range((until - start).days)]
    reported = [int((by_day.get(d) or {}).get("reported") or 0) for d in days]
    closed = [int((by_day.get(d) or {}).get("closed_on_day") or 0) for d in days]
    points = []
    if interval == "day":
        for i, d in enumerate(days):
            if d < since:
                continue
            window = slice(max(0, i - 6), i + 1)
            r = _rates(by_day.get(d) or _blank())
            points.append(
                {
                    "day": d.isoformat(),
                    "reported": reported[i],
                    "closed": closed[i],
                    "reported_avg7": round(sum(reported[window]) / 7, 2),
                    "closed_avg7": round(sum(closed[window]) / 7, 2),
                    "close_rate": r["close_rate"],
                    "on_time_rate": r["on_time_rate"],
                }
            )
    else:
        weeks: dict[dt.date, dict[str, Any]] = {}
        for d in days:
            if d < since:
                continue
            monday = d - dt.timedelta(days=d.weekday())
            week = weeks.setdefault(monday, _blank())
            row = by_day.get(d) or {}
            for m in SUMS:
                week[m] += row.get(m) or 0
        for monday, sums in sorted(weeks.items()):
            r = _rates(sums)
            points.append(
                {
                    "day": monday.isoformat(),
                    "reported": r["reported"],
                    "closed": r["closed_on_day"],
                    "reported_avg7": round(r["reported"] / 7, 2),
                    "closed_avg7": round(r["closed_on_day"] / 7, 2),
                    "close_rate": r["close_rate"],
                    "on_time_rate": r["on_time_rate"],
                }
            )
    return {
        "parent": parent,
        "interval": interval,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "target_on_time_rate": settings.DASHBOARD_ON_TIME_TARGET,
        "points": points,
    }


def categories(
    *, actor: Any, since: dt.date, until: dt.date, parent: str = "", top: int = 10
) -> dict[str, Any]:
    """The categories with the most events reported in the period (sub-categories, with
    their major category), and the rest as one."""
    scope = dashboard_scope(actor)
    check_period(since, until)
    parent = check_parent(scope, parent)
    level = level_for(scope, _parent_level(parent))
    rows = sorted(
        (
            {"category_id": r["category_id"], "n": r["reported"] or 0}
            for r in _cube_rows(
                scope, EventCategoryFact, "category_id", ("reported",), level, since, until, parent
            )
        ),
        key=lambda r: (-r["n"], r["category_id"]),
    )
    known = {c.pk: c for c in events.categories(actor=scope)}
    p = _period_params(since, until)
    grid = parent or None
    out = []
    for row in rows[:top]:
        c = known.get(row["category_id"])
        out.append(
            {
                "category_id": row["category_id"],
                "code": c.code if c else "",
                "name": c.name if c else _("(category no longer in use)"),
                "major": c.parent.name if c and c.parent else "",
                "reported": row["n"],
                "href": inbox_href(grid=grid, category=c.code if c else "", **p),
            }
        )
    rest = sum(r["n"] for r in rows[top:])
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "parent": parent,
        "categories": out,
        "other": rest,
        "total": sum(r["n"] for r in rows),
    }


def channels(*, actor: Any, since: dt.date, until: dt.date, parent: str = "") -> dict[str, Any]:
    """Events reported in the period by channel (grid worker, 12345 hotline, resident …)."""
    scope = dashboard_scope(actor)
    check_period(since, until)
    parent = check_parent(scope, parent)
    level = level_for(scope, _parent_level(parent))
    rows = _cube_rows(scope, EventChannelFact, "channel", COHORT, level, since, until, parent)
    labels = dict(Channel.choices)
    out = [
        {"channel": r["channel"], "name": str(labels.get(r["channel"], r["channel"]))}
        | _rates(r, COHORT)
        for r in sorted(rows, key=lambda r: -(r["reported"] or 0))
    ]
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "parent": parent,
        "channels": out,
    }


def departments(*, actor: Any, since: dt.date, until: dt.date, parent: str = "") -> dict[str, Any]:
    """Workload per handling department: the period's events, closed, on time, average
    handling time (the indicators by department), and what is open there now."""
    scope = dashboard_scope(actor)
    check_period(since, until)
    parent = check_parent(scope, parent)
    level = level_for(scope, _parent_level(parent))
    qs = _facts(
        scope, level=level, since=since, until=until, parent=parent, model=EventDepartmentFact
    )
    rows = _sums(qs, "handler_department", measures=COHORT)
    names = department_names()
    out = []
    for r in sorted(rows, key=lambda r: -(r["should_close"] or 0)):
        if not r["should_close"]:
            continue
        code = r["handler_department"]
        out.append(
            {"department": code, "name": names.get(code, code) or _("Not dispatched")}
            | _rates(r, COHORT)
        )
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "parent": parent,
        "departments": out,
    }


def ageing(*, actor: Any, parent: str = "", now: dt.datetime | None = None) -> dict[str, Any]:
    """Open events by age in working days (live)."""
    scope = dashboard_scope(actor)
    parent = check_parent(scope, parent)
    buckets = events.open_ageing(actor=scope, grid=parent, now=now)
    for b in buckets:
        low, high = b["min_days"], b["max_days"]
        b["label"] = (
            _("under %(n)d working day") % {"n": high}
            if low == 0
            else (
                _("%(a)d–%(b)d working days") % {"a": low, "b": high}
                if high is not None
                else _("%(n)d working days or more") % {"n": low}
            )
        )
        b["href"] = inbox_href(box="all", open="1", grid=parent or None)
    return {"parent": parent, "buckets": buckets}


def rankings(
    *, actor: Any, since: dt.date, until: dt.date, level: str = "street", parent: str = ""
) -> dict[str, Any]:
    """Regions of a level ranked by 按期结案率 (then fewer overdue), with the same numbers of
    the period just before (as long) and the change: the weekly 通报."""
    scope = dashboard_scope(actor)
    check_period(since, until)
    parent = check_parent(scope, parent)
    if level not in LEVEL_BY_NAME:
        raise ValidationFailed(
            code="unknown_level", details={"level": level, "known": list(LEVEL_BY_NAME)}
        )
    width = LEVEL_BY_NAME[level]
    if parent and width <= len(parent):
        raise ValidationFailed(_("The level must lie below the region."), code="bad_level")
    fact_level = level_for(scope, width)
    length = until - since
    before = since - length

    # Both periods in one read of the facts: each measure summed over the days of each.
    qs = _facts(scope, level=fact_level, since=before, until=until, parent=parent)
    key = F("region_code") if width == fact_level else Substr("region_code", 1, width)
    sums = {f"now_{m}": Sum(m, filter=Q(day__gte=since)) for m in RANKED} | {
        f"prev_{m}": Sum(m, filter=Q(day__lt=since)) for m in RANKED
    }
    now: dict[str, dict[str, Any]] = {}
    prev: dict[str, dict[str, Any]] = {}
    for row in qs.annotate(key=key).values("key").annotate(**sums):
        # A sum over no fact row of a period is NULL: the region had no events then.
        for period, out in (("now", now), ("prev", prev)):
            if row[f"{period}_should_close"] is not None:
                out[row["key"]] = _rates({m: row[f"{period}_{m}"] for m in RANKED}, RANKED)
    names = region_names_unscoped(now)
    link = inbox_links(**_period_params(since, until))
    rows = []
    for code, r in now.items():
        if not r["should_close"]:
            continue
        p = prev.get(code)
        rows.append(
            {
                "code": code,
                "name": names.get(code, code),
                **{
                    k: r[k]
                    for k in (
                        "should_close",
                        "closed",
                        "on_time_rate",
                        "close_rate",
                        "overdue",
                        "returned",
                        "avg_handling_hours",
                    )
                },
                "previous": {
                    k: p[k] if p else None
                    for k in ("on_time_rate", "overdue", "returned", "avg_handling_hours")
                },
                "href": link(code),
            }
        )
    rows.sort(key=lambda r: (-(r["on_time_rate"] or 0), r["overdue"], r["code"]))
    prev_order = sorted(
        (c for c in prev if prev[c]["should_close"]),
        key=lambda c: (-(prev[c]["on_time_rate"] or 0), prev[c]["overdue"], c),
    )
    prev_rank = {c: i + 1 for i, c in enumerate(prev_order)}
    for i, row in enumerate(rows):
        row["rank"] = i + 1
        row["previous_rank"] = prev_rank.get(row["code"])
        before_rate = row["previous"]["on_time_rate"]
        row["change"] = (
            round(row["on_time_rate"] - before_rate, 4)
            if row["on_time_rate"] is not None and before_rate is not None
            else None
        )
    return {
        "level": level,
        "parent": parent,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "previous_since": before.isoformat(),
        "rows": rows,
    }


def indicators(*, actor: Any, by: str, since: dt.date, until: dt.date) -> list[dict[str, Any]]:
    """The indicators table (`events.selectors.indicators`) from the facts: the same numbers,
    which a test checks for every role and dimension."""
    scope = dashboard_scope(actor)
    check_period(since, until)
    if by not in events.DIMENSIONS:
        raise ValidationFailed(
            code="unknown_dimension", details={"by": by, "known": list(events.DIMENSIONS)}
        )
    width = events.DIMENSIONS[by]
    level = level_for(scope, width or 0)
    out: dict[str, dict[str, Any]]
    if width is None:
        qs = _facts(
            scope, level=level, since=since, until=until, parent="", model=EventDepartmentFact
        )
        out = {
            r.pop("handler_department"): r for r in _sums(qs, "handler_department", measures=COHORT)
        }
    else:
        out = _by_region(
            _facts(scope, level=level, since=since, until=until, parent=""), width, level=level
        )
    names = department_names() if width is None else region_names_unscoped(out)
    result = []
    for key in sorted(out):
        r = _rates(out[key])
        if not r["should_close"]:
            continue
        result.append(
            {
                "key": key,
                "name": names.get(key, key),
                **{m: r[m] for m in ("should_close", *COUNTS[2:])},
                "close_rate": r["close_rate"],
                "on_time_rate": r["on_time_rate"],
                "avg_handling_hours": r["avg_handling_hours"],
            }
        )
    return result


def drill(*, actor: Any, code: str = "") -> dict[str, Any]:
    """Where a region sits (its path from the actor's top region) and its children: the
    dashboard's breadcrumb and the map's next level."""
    scope = dashboard_scope(actor)
    code = check_parent(scope, code)
    names = region_names_unscoped()
    roots = scope.roots(Perm.EVENTS_VIEW)
    path = []
    if code:
        for length in (4, *LEVELS):
            if length > len(code):
                break
            prefix = code[:length]
            if prefix in names and (scope.is_system or any(prefix.startswith(r) for r in roots)):
                path.append({"code": prefix, "name": names[prefix]})
    width = _children_level(scope, code, "")
    children = sorted(
        {
            c
            for c in names
            if len(c) == width
            and c.startswith(code)
            and (scope.is_system or any(c.startswith(r) for r in roots))
        }
    )
    return {
        "code": code,
        "name": names.get(code, "") if code else "",
        "path": path,
        "level": LEVEL_NAMES.get(width, "grid"),
        "children": [{"code": c, "name": names[c]} for c in children],
    }


def figures_taken_at(*, actor: Any) -> dt.datetime | None:
    """When the per-grid figures were last counted (the page says how fresh they are)."""
    dashboard_scope(actor)
    from wangge.dashboard.models import FactState

    state = FactState.objects.filter(name="events").first()
    return state.figures_taken_at if state else None


def indicator_options(*, actor: Any) -> list[dict[str, str]]:
    """The map's indicators this actor may choose (those of modules they may see)."""
    scope = dashboard_scope(actor)
    return [
        {
            "key": key,
            "label": str(spec["label"]),
            "unit": spec.get("unit", ""),
            "worse": spec["worse"],
        }
        for key, spec in INDICATORS.items()
        if spec.get("perm") is None or scope.has(spec["perm"])
    ]


# The roles whose start page is the dashboard; grid roles keep their task-first start page.
DASHBOARD_START_ROLES = frozenset(
    {"district_admin", "street_officer", "community_officer", "department_officer"}
)


def starts_on_dashboard(*, actor: Any) -> bool:
    """Whether the actor's start page is the dashboard (an officer of a district, street,
    community or department), rather than the task-first page of grid roles."""
    from wangge.core.scope import as_scope

    scope = as_scope(actor)
    if not (scope.has(Perm.DASHBOARD_VIEW) and scope.has(Perm.EVENTS_VIEW)):
        return False
    return any(g.role in DASHBOARD_START_ROLES for g in scope.grants)


def page_context(*, actor: Any) -> dict[str, Any]:
    """What the dashboard page needs before its panels load: the period, the indicators the
    actor may choose, the top region and how fresh the figures are."""
    scope = dashboard_scope(actor)
    since, until = default_period()
    roots = scope.roots(Perm.EVENTS_VIEW)
    names = region_names_unscoped()
    return {
        "since": since,
        "until": until,
        "indicators": indicator_options(actor=scope),
        "roots": [{"code": r, "name": names.get(r, r)} for r in roots],
        "figures_taken_at": figures_taken_at(actor=scope),
        "target": settings.DASHBOARD_ON_TIME_TARGET,
    }
