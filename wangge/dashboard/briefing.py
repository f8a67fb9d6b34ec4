"""The weekly briefing (每周通报): a cover with the scope's totals and the ranking of its
streets, then one page per street (a community officer's: their community) with a sketch map
of its grids coloured by 按期结案率, the ranking of its communities and grids, and its overdue
open events. `briefing()` gathers it from the dashboard's selectors (and the events' and
regions' own selectors), so it shows exactly what the actor may see; the page
(`briefing.html`) and the PDF (`briefing_pdf`) draw the same data.

The week runs Monday to Sunday: `since` is the Monday, `until` the next Monday (exclusive),
and the change of each ranking is against the week before.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core import dates
from wangge.core.errors import ValidationFailed
from wangge.core.roles import Perm
from wangge.core.scope import Scope
from wangge.dashboard import selectors
from wangge.events import selectors as events
from wangge.events.calendar import Calendar
from wangge.regions import selectors as regions

OVERDUE_SHOWN = 50
# The sketch map's box (SVG user units; the PDF draws it in points at the same size).
MAP_WIDTH = 480.0
MAP_HEIGHT = 300.0
PDF_MAP_HEIGHT = 170.0
# The map's classes by 按期结案率 in percentage points below the target: at or above the
# target, within 10 points, within 20 points, further below; "none" where nothing was due.
BANDS = ("good", "fair", "poor", "bad")
BAND_COLOURS = {
    "good": "#2e7d32",
    "fair": "#9ccc65",
    "poor": "#ffb300",
    "bad": "#e53935",
    "none": "#e0e0e0",
}


# --- the week --------------------------------------------------------------------------------


def week_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """The Monday of `day`'s week and the Monday after it."""
    monday = day - dt.timedelta(days=day.weekday())
    return monday, monday + dt.timedelta(days=7)


def last_complete_week(today: dt.date | None = None) -> dt.date:
    """The Monday of the last week that has ended (the week before this one)."""
    today = today or timezone.localdate()
    return week_of(today)[0] - dt.timedelta(days=7)


def parse_week(text: str, *, today: dt.date | None = None) -> dt.date:
    """The Monday of the week holding the day `text` (YYYY-MM-DD; blank: the last complete
    week). ValidationFailed for no date, or a week that has not begun."""
    today = today or timezone.localdate()
    day = dates.parse_day(text or "", field="week")
    if day is None:
        return last_complete_week(today)
    monday = week_of(day)[0]
    if monday > today:
        raise ValidationFailed(
            _("The week of %(day)s has not begun yet.") % {"day": day.isoformat()},
            code="future_week",
            details={"week": day.isoformat()},
        )
    return monday


# --- formatting shared by the page and the PDF -------------------------------------------------


def pct(rate: float | None) -> str:
    """A rate (0–1) as a percentage with one decimal, "—" without one."""
    return "—" if rate is None else f"{100 * rate:.1f}%"


def _change(row: dict[str, Any]) -> dict[str, str]:
    """How a ranked region moved since the week before: its rank (↑ up, ↓ down) and its
    按期结案率 in percentage points."""
    before = row.get("previous_rank")
    if before is None:
        arrow, moved = "", "new"
    elif row["rank"] < before:
        arrow, moved = "↑", "up"
    elif row["rank"] > before:
        arrow, moved = "↓", "down"
    else:
        arrow, moved = "", "same"
    change = row.get("change")
    return {
        "arrow": arrow,
        "moved": moved,
        "rank_was": str(before) if before is not None else "—",
        "change_pp": "—" if change is None else f"{100 * change:+.1f}",
    }


def _ranked(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        row
        | _change(row)
        | {
            "on_time": pct(row["on_time_rate"]),
            "close": pct(row["close_rate"]),
            "previous_on_time": pct(row["previous"]["on_time_rate"]),
        }
        for row in data["rows"]
    ]


def band(value: float | None, target: float) -> str:
    """The map class of a grid's 按期结案率 (`value` in percent, `target` a rate 0–1)."""
    if value is None:
        return "none"
    below = 100 * target - value
    if below <= 0:
        return "good"
    if below <= 10:
        return "fair"
    if below <= 20:
        return "poor"
    return "bad"


def legend(target: float) -> list[dict[str, str]]:
    t = 100 * target
    return [
        {"band": "good", "label": _("%(t)s%% or more") % {"t": f"{t:g}"}},
        {"band": "fair", "label": f"{t - 10:g}–{t:g}%"},
        {"band": "poor", "label": f"{t - 20:g}–{t - 10:g}%"},
        {"band": "bad", "label": _("under %(t)s%%") % {"t": f"{t - 20:g}"}},
        {"band": "none", "label": _("nothing due")},
    ]


# --- the sketch map ----------------------------------------------------------------------------


def _rings(geojson: str) -> list[list[tuple[float, float]]]:
    """The rings (outer and holes) of a Polygon or MultiPolygon as (lon, lat) lists."""
    try:
        geometry = json.loads(geojson)
    except ValueError:
        return []
    if geometry.get("type") == "Feature":
        geometry = geometry.get("geometry") or {}
    kind, coords = geometry.get("type"), geometry.get("coordinates") or []
    polygons = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
    return [
        [(float(p[0]), float(p[1])) for p in ring]
        for polygon in polygons
        for ring in polygon
        if len(ring) >= 3
    ]


def sketch(
    outlines: list[tuple[str, str, str]], values: dict[str, float | None], target: float
) -> dict[str, Any]:
    """The grids' outlines fitted into the map's box (an equirectangular projection, north up),
    each with its value and class: `rings` as lists of (x, y) from the top left, `d` the same as
    an SVG path. Numbers only; the names stay text for the template to escape."""
    shapes = [(code, name, _rings(geojson)) for code, name, geojson in outlines]
    points = [p for _c, _n, rings in shapes for ring in rings for p in ring]
    if not points:
        return {"grids": [], "width": MAP_WIDTH, "height": 0.0}
    min_lon = min(p[0] for p in points)
    max_lon = max(p[0] for p in points)
    min_lat = min(p[1] for p in points)
    max_lat = max(p[1] for p in points)
    squeeze = math.cos(math.radians((min_lat + max_lat) / 2))
    span_x = max((max_lon - min_lon) * squeeze, 1e-9)
    span_y = max(max_lat - min_lat, 1e-9)
    scale = min(MAP_WIDTH / span_x, MAP_HEIGHT / span_y)
    width, height = span_x * scale, span_y * scale

    def project(lon: float, lat: float) -> tuple[float, float]:
        return round((lon - min_lon) * squeeze * scale, 1), round((max_lat - lat) * scale, 1)

    grids = []
    for code, name, rings in shapes:
        projected = [[project(lon, lat) for lon, lat in ring] for ring in rings]
        if not projected:
            continue
        value = values.get(code)
        outer = max(projected, key=len)
        grids.append(
            {
                "code": code,
                "name": name,
                "value": value,
                "value_text": "—" if value is None else f"{value:.1f}%",
                "band": band(value, target),
                "colour": BAND_COLOURS[band(value, target)],
                "rings": projected,
                "d": " ".join(
                    "M" + " L".join(f"{x} {y}" for x, y in ring) + " Z" for ring in projected
                ),
                # Where the label goes: the middle of the outer ring's box (a sketch).
                "label_x": round((min(x for x, _y in outer) + max(x for x, _y in outer)) / 2, 1),
                "label_y": round((min(y for _x, y in outer) + max(y for _x, y in outer)) / 2, 1),
            }
        )
    return {"grids": grids, "width": round(width, 1), "height": round(height, 1)}


# --- the briefing ------------------------------------------------------------------------------


def _units(scope: Scope) -> list[dict[str, str]]:
    """The regions that get a page: the streets of the actor's scope, or their own region
    when it lies within a street (a community officer's community)."""
    out: list[dict[str, str]] = []

    def descend(code: str) -> None:
        place = selectors.drill(actor=scope, code=code)
        for child in place["children"]:
            if len(child["code"]) >= 9:
                out.append(child)
            else:
                descend(child["code"])

    roots = [] if scope.is_system else scope.roots(Perm.EVENTS_VIEW)
    if not roots:
        descend("")
    for root in roots:
        if len(root) >= 9:
            out.append({"code": root, "name": selectors.drill(actor=scope, code=root)["name"]})
        else:
            descend(root)
    return out


def _overdue(scope: Scope, code: str, now: dt.datetime) -> dict[str, Any]:
    qs = events.event_list(actor=scope, box="overdue", grid=code).order_by("due_at", "pk")
    count = qs.count()
    names = regions.region_names_unscoped() if count else {}
    rows = []
    cal = Calendar()
    for event in qs[:OVERDUE_SHOWN]:
        late = cal.working_days_after(event.due_at, now) if event.due_at else 0
        rows.append(
            {
                "number": event.number,
                "title": event.title,
                "grid_code": event.grid_code,
                "grid_name": names.get(event.grid_code, event.grid_code),
                # Working days, as deadlines are counted; one at least once the deadline passed.
                "days_overdue": max(1, late) if event.due_at and event.due_at < now else 0,
            }
        )
    return {"rows": rows, "count": count, "more": max(0, count - len(rows))}


def _page(
    scope: Scope, unit: dict[str, str], since: dt.date, until: dt.date, now: dt.datetime
) -> dict[str, Any]:
    code = unit["code"]
    target = settings.DASHBOARD_ON_TIME_TARGET
    period: dict[str, dt.date] = {"since": since, "until": until}
    summary = selectors.summary(actor=scope, parent=code, **period)
    # A grid's page (a grid officer's) shows the grid among its community's on the map.
    map_parent = code if len(code) < 15 else code[:12]
    values = {
        r["code"]: r["value"]
        for r in selectors.region_map(
            actor=scope, indicator="on_time_rate", parent=map_parent, level="grid", **period
        )["regions"]
    }
    outlines: list[tuple[str, str, str]] = []
    if scope.has(Perm.REGIONS_VIEW):
        outlines = list(
            regions.grid_boundaries(actor=scope, level="grid")
            .filter(region__code__startswith=code)
            .values_list("region__code", "region__name", "geojson")
        )
    communities = (
        _ranked(selectors.rankings(actor=scope, level="community", parent=code, **period))
        if len(code) < 12
        else []
    )
    grids = (
        _ranked(selectors.rankings(actor=scope, level="grid", parent=code, **period))
        if len(code) < 15
        else []
    )
    return {
        "code": code,
        "name": unit["name"],
        "level": selectors.LEVEL_NAMES.get(len(code), "street"),
        "totals": _totals(summary),
        "map": sketch(outlines, values, target),
        "communities": communities,
        "grids": grids,
        "overdue": _overdue(scope, code, now),
    }


def _totals(summary: dict[str, Any]) -> dict[str, Any]:
    period, target = summary["period"], summary["target_on_time_rate"]
    on_time = period["on_time_rate"]
    totals = {
        "reported": period["reported"],
        "should_close": period["should_close"],
        "closed": period["closed"],
        "close_rate": pct(period["close_rate"]),
        "on_time_rate": pct(on_time),
        "target": pct(target),
        "meets_target": on_time is not None and on_time >= target,
        "overdue": period["overdue"],
        "returned": period["returned"],
        "overdue_now": summary["now"]["overdue"],
        "open_now": summary["now"]["open"],
    }
    return totals | {"rows": totals_rows(totals)}


def briefing(*, actor: Any, week: dt.date, now: dt.datetime | None = None) -> dict[str, Any]:
    """The briefing of the week holding `week`, over the actor's scope (NotFound without the
    dashboard): totals, the ranking of the pages' regions, and one page per street."""
    scope = selectors.dashboard_scope(actor)
    now = now or timezone.now()
    since, until = week_of(week)
    units = _units(scope)
    widths = {len(u["code"]) for u in units}
    level = selectors.LEVEL_NAMES.get(widths.pop(), "street") if len(widths) == 1 else "street"
    roots = [] if scope.is_system else scope.roots(Perm.EVENTS_VIEW)
    names = {r: selectors.drill(actor=scope, code=r)["name"] for r in roots}
    return {
        "since": since,
        "until": until,
        "last_day": until - dt.timedelta(days=1),
        "previous_week": since - dt.timedelta(days=7),
        "next_week": since + dt.timedelta(days=7) if until <= timezone.localdate() else None,
        "now": now,
        "scope_name": "、".join(names.get(r, r) for r in roots) or _("All regions"),
        "target": settings.DASHBOARD_ON_TIME_TARGET,
        "totals": _totals(selectors.summary(actor=scope, since=since, until=until)),
        "ranking_level": level,
        "ranking": _ranked(selectors.rankings(actor=scope, level=level, since=since, until=until)),
        "legend": legend(settings.DASHBOARD_ON_TIME_TARGET),
        "pages": [_page(scope, unit, since, until, now) for unit in units],
    }


# --- the PDF -----------------------------------------------------------------------------------

FONT = "STSong-Light"  # one of reportlab's CID fonts: Chinese without a font file


def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _period_text(data: dict[str, Any]) -> str:
    return f"{data['since'].isoformat()} – {data['last_day'].isoformat()}"


def totals_rows(totals: dict[str, Any]) -> list[tuple[str, Any]]:
    """The cover's (and each page's) totals as (label, value), for the page and the PDF."""
    return [
        (_("Events reported"), totals["reported"]),
        (_("Should close"), totals["should_close"]),
        (_("Closed"), totals["closed"]),
        (_("Close rate (结案率)"), totals["close_rate"]),
        (
            _("On-time rate (按期结案率)"),
            # Not _() inside the f-string: xgettext cannot see it there (it showed "target").
            _("%(rate)s (target %(target)s)")
            % {"rate": totals["on_time_rate"], "target": totals["target"]},
        ),
        (_("Went overdue"), totals["overdue"]),
        (_("Returned"), totals["returned"]),
        (_("Overdue and open now"), totals["overdue_now"]),
    ]


def briefing_pdf(data: dict[str, Any]) -> bytes:
    """The briefing as an A4 PDF: the cover, then one page per street (a long street runs on;
    the next street starts a new page). Drawn with reportlab, no browser, no network."""
    from xml.sax.saxutils import escape

    from reportlab.graphics.shapes import Drawing, Polygon, Rect, String
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )
    from reportlab.platypus.flowables import Flowable

    font = _font()
    title = ParagraphStyle("title", fontName=font, fontSize=18, leading=24, spaceAfter=6)
    heading = ParagraphStyle("heading", fontName=font, fontSize=12, leading=16, spaceBefore=8)
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=12)
    cell = ParagraphStyle("cell", fontName=font, fontSize=8, leading=10)
    style = TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), font, 8),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
    )

    def text(value: Any, st: ParagraphStyle = cell) -> Paragraph:
        return Paragraph(escape(str(value)), st)

    def table(headers: list[str], rows: list[list[Any]], widths: list[float] | None = None) -> Any:
        t = Table(
            [[text(h) for h in headers], *[[text(v) for v in r] for r in rows]],
            colWidths=widths,
            repeatRows=1,
            hAlign="LEFT",
        )
        t.setStyle(style)
        return t

    rank_headers = [
        _("Rank"),
        _("Name"),
        _("Should close"),
        _("Closed"),
        _("On-time rate (按期结案率)"),
        _("Change (points)"),
        _("Last week's rank"),
        _("Went overdue"),
        _("Returned"),
    ]

    def ranking(rows: list[dict[str, Any]]) -> Any:
        if not rows:
            return text(_("Nothing was due in this week."), body)
        return table(
            rank_headers,
            [
                [
                    f"{r['rank']}{r['arrow']}",
                    r["name"],
                    r["should_close"],
                    r["closed"],
                    r["on_time"],
                    r["change_pp"],
                    r["rank_was"],
                    r["overdue"],
                    r["returned"],
                ]
                for r in rows
            ],
        )

    def totals(values: dict[str, Any]) -> Any:
        return table([_("Item"), _("This week")], [list(r) for r in values["rows"]])

    def sketch_map(m: dict[str, Any]) -> Drawing:
        # A third of the page at most, so that a street's tables fit beside it.
        f = min(1.0, PDF_MAP_HEIGHT / m["height"]) if m["height"] else 1.0
        h = m["height"] * f
        drawing = Drawing(max(m["width"] * f, 450), h + 28)
        for g in m["grids"]:
            for ring in g["rings"]:
                drawing.add(
                    Polygon(
                        [c for x, y in ring for c in (x * f, h + 28 - y * f)],
                        fillColor=colors.HexColor(g["colour"]),
                        strokeColor=colors.white,
                        strokeWidth=0.8,
                    )
                )
        for g in m["grids"]:
            drawing.add(
                String(
                    g["label_x"] * f,
                    h + 28 - g["label_y"] * f,
                    f"{g['name']} {g['value_text']}",
                    fontName=font,
                    fontSize=6,
                    textAnchor="middle",
                )
            )
        x = 0.0
        for item in data["legend"]:
            drawing.add(Rect(x, 4, 10, 10, fillColor=colors.HexColor(BAND_COLOURS[item["band"]])))
            drawing.add(String(x + 13, 6, item["label"], fontName=font, fontSize=7))
            x += 90
        return drawing

    class Bookmark(Flowable):
        """An outline entry at this point of the document (the PDF's table of contents)."""

        def __init__(self, key: str, label: str) -> None:
            super().__init__()
            self.key, self.label = key, label
            self.width = self.height = 0

        def draw(self) -> None:
            self.canv.bookmarkPage(self.key)
            self.canv.addOutlineEntry(self.label, self.key, level=0)

    period = _period_text(data)
    story: list[Any] = [
        Bookmark("cover", _("Weekly briefing")),
        Paragraph(escape(_("Weekly briefing")) + " · " + escape(data["scope_name"]), title),
        text(
            _("Week %(since)s – %(until)s")
            % {"since": data["since"].isoformat(), "until": data["last_day"].isoformat()}
            + " · "
            + _("as of")
            + " "
            + timezone.localtime(data["now"]).strftime("%Y-%m-%d %H:%M"),
            body,
        ),
        Spacer(1, 4 * mm),
        totals(data["totals"]),
        Paragraph(escape(_("Ranking by on-time rate")), heading),
        ranking(data["ranking"]),
    ]
    for page in data["pages"]:
        story += [
            PageBreak(),
            Bookmark(page["code"], page["name"]),
            Paragraph(escape(page["name"]) + " · " + escape(period), title),
            totals(page["totals"]),
            Paragraph(escape(_("Grids by on-time rate")), heading),
        ]
        if page["map"]["grids"]:
            story.append(sketch_map(page["map"]))
        else:
            story.append(text(_("No grid boundaries to draw."), body))
        if page["communities"]:
            story += [Paragraph(escape(_("Communities")), heading), ranking(page["communities"])]
        if page["grids"]:
            story += [Paragraph(escape(_("Grids")), heading), ranking(page["grids"])]
        overdue = page["overdue"]
        story.append(
            Paragraph(escape(_("Overdue open events (%(n)s)") % {"n": overdue["count"]}), heading)
        )
        if overdue["rows"]:
            story.append(
                table(
                    [_("Number"), _("Title"), _("Grid"), _("Working days overdue")],
                    [
                        [r["number"], r["title"], r["grid_name"], r["days_overdue"]]
                        for r in overdue["rows"]
                    ],
                    [40 * mm, 70 * mm, 45 * mm, 20 * mm],
                )
            )
            if overdue["more"]:
                story.append(text(_("… and %(n)s more.") % {"n": overdue["more"]}, body))
        else:
            story.append(text(_("None."), body))

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=_("Weekly briefing") + " " + period,
        author="wangge",
        # No time stamps in the file: the same week's data gives the same bytes.
        invariant=1,
    )
    doc.build(story)
    return buffer.getvalue()
