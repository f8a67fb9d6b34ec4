"""Each dashboard panel's numbers as one worksheet: the panel's own selector with the API's
parameters, Chinese headers (gettext), names before codes, rates as percentages (numbers in
percent, the unit in the header). `services.panel_export` writes the workbook and the audit
entry; `panel_sheet` only reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wangge.core.errors import ValidationFailed
from wangge.dashboard import selectors

Sheet = tuple[str, list[str], list[list[Any]]]


@dataclass(frozen=True)
class PanelQuery:
    """The API's parameters of a panel (each panel reads those it knows)."""

    since: dt.date
    until: dt.date
    parent: str = ""
    indicator: str = "open"
    level: str = ""
    interval: str = "day"


def percent(rate: float | None) -> float | None:
    """A rate (0–1) in percent, one decimal (the sheet's header says %)."""
    return None if rate is None else round(100 * rate, 1)


def _choice(field: str, value: str, known: list[str]) -> None:
    if value not in known:
        raise ValidationFailed(
            _("%(value)s is not a choice for %(field)s; choose one of: %(known)s.")
            % {"value": value[:32], "field": field, "known": ", ".join(known)},
            code="bad_choice",
            details={"field": field, "known": known},
        )


# Columns of a panel's rate rows (channels, departments).
RATE_COLUMNS = [
    ("reported", gettext_lazy("Events reported")),
    ("should_close", gettext_lazy("Should close")),
    ("closed", gettext_lazy("Closed")),
    ("closed_on_time", gettext_lazy("Closed on time")),
    ("close_rate", gettext_lazy("Close rate (%)")),
    ("on_time_rate", gettext_lazy("On-time rate (%)")),
    ("overdue", gettext_lazy("Went overdue")),
    ("returned", gettext_lazy("Returned")),
    ("avg_handling_hours", gettext_lazy("Avg. handling (h)")),
]
RATES = {"close_rate", "on_time_rate"}


def _rate_cells(row: dict[str, Any]) -> list[Any]:
    return [percent(row[k]) if k in RATES else row[k] for k, _label in RATE_COLUMNS]


def _summary(actor: Any, q: PanelQuery) -> Sheet:
    data = selectors.summary(actor=actor, since=q.since, until=q.until, parent=q.parent)
    p, now = data["period"], data["now"]
    rows: list[list[Any]] = [
        [_("Period from"), q.since.isoformat()],
        [_("Period until (exclusive)"), q.until.isoformat()],
        [_("Open now"), now["open"]],
        [_("Overdue and open now"), now["overdue"]],
        *[
            [str(label), cell]
            for (_k, label), cell in zip(RATE_COLUMNS, _rate_cells(p), strict=True)
        ],
        [_("Closed in the period"), p["closed_on_day"]],
        [_("Target on-time rate (%)"), percent(data["target_on_time_rate"])],
    ]
    return str(_("Summary")), [_("Item"), _("Value")], rows


DETAIL_LABELS = {
    "reported": gettext_lazy("Events reported"),
    "should_close": gettext_lazy("Should close"),
    "residents": gettext_lazy("Residents"),
    "people_complete": gettext_lazy("Complete records"),
    "people_total": gettext_lazy("Records"),
    "campaign_done": gettext_lazy("Tasks done"),
    "campaign_total": gettext_lazy("Tasks"),
}


def _map(actor: Any, q: PanelQuery) -> Sheet:
    _choice("level", q.level, ["", *selectors.LEVEL_BY_NAME])
    _choice("indicator", q.indicator, list(selectors.INDICATORS))
    data = selectors.region_map(
        actor=actor,
        indicator=q.indicator,
        since=q.since,
        until=q.until,
        parent=q.parent,
        level=q.level,
    )
    details: list[str] = []
    for region in data["regions"]:
        for key in region["detail"] or {}:
            if key not in details:
                details.append(key)
    label = data["label"] + (f" ({data['unit']})" if data["unit"] else "")
    headers = [_("Name"), _("Code"), label, *[str(DETAIL_LABELS.get(k, k)) for k in details]]
    rows = [
        [r["name"], r["code"], r["value"], *[(r["detail"] or {}).get(k) for k in details]]
        for r in data["regions"]
    ]
    return str(_("Map")), headers, rows


def _trend(actor: Any, q: PanelQuery) -> Sheet:
    _choice("interval", q.interval, ["day", "week"])
    data = selectors.trend(
        actor=actor, since=q.since, until=q.until, parent=q.parent, interval=q.interval
    )
    headers = [
        _("Day") if q.interval == "day" else _("Week from"),
        _("Events reported"),
        _("Closed in the period"),
        _("Reported (7-day average)"),
        _("Closed (7-day average)"),
        _("Close rate (%)"),
        _("On-time rate (%)"),
    ]
    rows = [
        [
            p["day"],
            p["reported"],
            p["closed"],
            p["reported_avg7"],
            p["closed_avg7"],
            percent(p["close_rate"]),
            percent(p["on_time_rate"]),
        ]
        for p in data["points"]
    ]
    return str(_("Trend")), headers, rows


def _categories(actor: Any, q: PanelQuery) -> Sheet:
    data = selectors.categories(actor=actor, since=q.since, until=q.until, parent=q.parent)
    headers = [_("Category"), _("Major category"), _("Code"), _("Events reported")]
    rows: list[list[Any]] = [
        [c["name"], c["major"], c["code"], c["reported"]] for c in data["categories"]
    ]
    rows.append([_("Other categories"), "", "", data["other"]])
    rows.append([_("Total"), "", "", data["total"]])
    return str(_("Categories")), headers, rows


def _channels(actor: Any, q: PanelQuery) -> Sheet:
    data = selectors.channels(actor=actor, since=q.since, until=q.until, parent=q.parent)
    headers = [_("Channel"), _("Code"), *[str(label) for _k, label in RATE_COLUMNS]]
    rows = [[r["name"], r["channel"], *_rate_cells(r)] for r in data["channels"]]
    return str(_("Channels")), headers, rows


def _departments(actor: Any, q: PanelQuery) -> Sheet:
    data = selectors.departments(actor=actor, since=q.since, until=q.until, parent=q.parent)
    headers = [_("Department"), _("Code"), *[str(label) for _k, label in RATE_COLUMNS]]
    rows = [[r["name"], r["department"], *_rate_cells(r)] for r in data["departments"]]
    return str(_("Departments")), headers, rows


def _ageing(actor: Any, q: PanelQuery) -> Sheet:
    data = selectors.ageing(actor=actor, parent=q.parent)
    rows = [[b["label"], b["count"]] for b in data["buckets"]]
    return str(_("Ageing")), [_("Age of open events"), _("Open events")], rows


def _rankings(actor: Any, q: PanelQuery) -> Sheet:
    level = q.level or "street"
    _choice("level", level, ["street", "community", "grid"])
    data = selectors.rankings(
        actor=actor, since=q.since, until=q.until, level=level, parent=q.parent
    )
    headers = [
        _("Rank"),
        _("Name"),
        _("Code"),
        _("Should close"),
        _("Closed"),
        _("On-time rate (%)"),
        _("Close rate (%)"),
        _("Went overdue"),
        _("Returned"),
        _("Avg. handling (h)"),
        _("Previous rank"),
        _("Previous on-time rate (%)"),
        _("Change (points)"),
    ]
    rows = [
        [
            r["rank"],
            r["name"],
            r["code"],
            r["should_close"],
            r["closed"],
            percent(r["on_time_rate"]),
            percent(r["close_rate"]),
            r["overdue"],
            r["returned"],
            r["avg_handling_hours"],
            r["previous_rank"],
            percent(r["previous"]["on_time_rate"]),
            percent(r["change"]),
        ]
        for r in data["rows"]
    ]
    return str(_("Rankings")), headers, rows


PANELS: dict[str, Callable[[Any, PanelQuery], Sheet]] = {
    "summary": _summary,
    "map": _map,
    "trend": _trend,
    "categories": _categories,
    "channels": _channels,
    "departments": _departments,
    "ageing": _ageing,
    "rankings": _rankings,
}


def panel_sheet(*, actor: Any, panel: str, query: PanelQuery) -> Sheet:
    """One panel's numbers as (title, headers, rows), read through the panel's selector (which
    checks the scope, the period and the parent)."""
    if panel not in PANELS:
        raise ValidationFailed(
            _("There is no panel %(panel)s.") % {"panel": panel[:32]}, code="unknown_panel"
        )
    title, headers, rows = PANELS[panel](actor, query)
    return title, [str(h) for h in headers], rows
