"""The dashboard's writes: what leaves the system on paper or in a file is audited, like the
other exports (what left, for whom, for which period). The numbers come from the selectors
(`briefing`, `exports`), so a file never holds what its reader could not see on the page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from wangge.core.audit import audit_record
from wangge.core.scope import as_scope
from wangge.core.tabular import write_xlsx
from wangge.dashboard import briefing, exports


def briefing_export(*, actor: Any, week: dt.date, now: dt.datetime | None = None) -> bytes:
    """The weekly briefing of the week holding `week` as a PDF, audited."""
    scope = as_scope(actor)
    with transaction.atomic():
        data = briefing.briefing(actor=scope, week=week, now=now)
        pdf = briefing.briefing_pdf(data)
        audit_record(
            actor=scope,
            action="dashboard.briefing_export",
            details={
                "since": data["since"].isoformat(),
                "until": data["until"].isoformat(),
                "pages": [p["code"] for p in data["pages"]],
            },
        )
    return pdf


def panel_export(*, actor: Any, panel: str, query: exports.PanelQuery) -> bytes:
    """One dashboard panel's numbers as a one-sheet workbook, audited."""
    scope = as_scope(actor)
    with transaction.atomic():
        sheet = exports.panel_sheet(actor=scope, panel=panel, query=query)
        audit_record(
            actor=scope,
            action="dashboard.panel_export",
            object_type="dashboard_panel",
            object_id=panel,
            details={
                "since": query.since.isoformat(),
                "until": query.until.isoformat(),
                "parent": query.parent,
                "rows": len(sheet[2]),
            }
            | ({"indicator": query.indicator} if panel == "map" else {})
            | ({"level": query.level} if query.level else {})
            | ({"interval": query.interval} if panel == "trend" else {}),
        )
    return write_xlsx([sheet])
