"""The district administrators' restructuring page: one form per operation, the dry run's
result, then a confirmation that applies exactly the same request."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wangge.core import dates
from wangge.core.errors import NotFound, ValidationFailed, WanggeError
from wangge.core.scope import scope_for
from wangge.regions.models import Operation
from wangge.restructure import selectors, services

MAX_PIECES_BYTES = 5 * 1024 * 1024
FIELDS = ("grids", "community", "code", "name", "effective", "default", "mapping", "pieces_text")

MODULES = {
    "ledger": gettext_lazy("Ledger"),
    "teams": gettext_lazy("Grid teams"),
    "events": gettext_lazy("Events"),
    "campaigns": gettext_lazy("Campaigns"),
}
KINDS = {
    "estate": gettext_lazy("Estates"),
    "building": gettext_lazy("Buildings"),
    "room": gettext_lazy("Rooms"),
    "household": gettext_lazy("Households"),
    "person": gettext_lazy("People"),
    "organisation": gettext_lazy("Organisations"),
    "thing": gettext_lazy("Things"),
    "assignment": gettext_lazy("Team assignments"),
    "staff": gettext_lazy("Grid staff"),
    "party_org": gettext_lazy("Party organisations"),
    "party_member": gettext_lazy("Party members"),
    "event": gettext_lazy("Open events"),
    "task": gettext_lazy("Campaign tasks"),
    "task_record": gettext_lazy("Task worklist records"),
}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    scope = selectors.restructure_page(actor=scope_for(request.user))
    data = request.POST if request.method == "POST" else request.GET
    op = data.get("op", "")
    if op not in Operation.values:
        op = Operation.MOVE
    f = {name: data.get(name, "").strip() for name in FIELDS}
    context: dict[str, Any] = {"op": op, "operations": Operation.choices, "f": f}
    if request.method != "POST":
        return render(request, "restructure/home.html", context)
    confirm = request.POST.get("confirm") == "1"
    try:
        pieces = _pieces(request, f) if op == Operation.SPLIT else None
        day = dates.parse_day(f["effective"], field=_("Effective from"))
        report = services.restructure(
            actor=scope,
            operation=op,
            grids=f["grids"].replace(",", " ").replace("，", " ").split(),
            code=f["code"],
            name=f["name"],
            community=f["community"],
            pieces=pieces,
            effective=dates.day_start(day) if day else None,
            mapping=f["mapping"],
            default=f["default"],
            apply=confirm,
        )
    except NotFound:
        raise
    except WanggeError as exc:
        context["error"] = exc.message
        return render(request, "restructure/home.html", context, status=400)
    result = report.as_dict()
    unplaced = [u | {"kind_label": KINDS.get(u["kind"], u["kind"])} for u in result["unplaced"]]
    context |= {
        "report": result,
        "rows": _rows(result),
        "unplaced": unplaced,
        "applied": report.applied,
    }
    return render(request, "restructure/home.html", context, status=200 if report.ok else 400)


def _pieces(request: HttpRequest, f: dict[str, str]) -> bytes | None:
    """The split's GeoJSON: the uploaded file, or the text the preview carried forward."""
    upload = request.FILES.get("pieces")
    if upload is not None:
        if upload.size is not None and upload.size > MAX_PIECES_BYTES:
            raise ValidationFailed(_("The GeoJSON file is larger than 5 MB."), code="too_large")
        raw = upload.read()
        try:
            f["pieces_text"] = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationFailed(
                _("The GeoJSON file is not UTF-8 text."), code="bad_encoding"
            ) from None
    return f["pieces_text"].encode() if f["pieces_text"] else None


def _rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for module, result in report["modules"].items():
        for kind, targets in result["moved"].items():
            for target, n in targets.items():
                rows.append(
                    {
                        "module": MODULES.get(module, module),
                        "kind": KINDS.get(kind, kind),
                        "target": target,
                        "n": n,
                    }
                )
    return rows
