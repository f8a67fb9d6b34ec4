"""Pages of organisations, things and standard addresses: lists, one record, add, correct,
move, retire. The views translate; the services decide."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from wangge.core import tables
from wangge.core.errors import Conflict, NotFound, ValidationFailed, WanggeError
from wangge.core.scope import scope_for
from wangge.ledger import selectors, services
from wangge.ledger.columns import KIND_LABELS, STATE_LABELS
from wangge.ledger.services.places import RETIRE_REASONS
from wangge.ledger.views.common import field_errors, posted_values, version_posted
from wangge.ledger.views.people import _record_form, retire_page
from wangge.regions.basemap import tile_url

# kind → (selector fetching one record by id, the URL name of its page)
_GET: dict[str, tuple[Callable[..., Any], str]] = {
    "organisation": (
        lambda a, pk: selectors.organisation_get(actor=a, organisation_id=pk),
        "ledger:organisation",
    ),
    "thing": (lambda a, pk: selectors.thing_get(actor=a, thing_id=pk), "ledger:thing"),
    "estate": (lambda a, pk: selectors.estate_get(actor=a, estate_id=pk), "ledger:estate"),
    "building": (lambda a, pk: selectors.building_get(actor=a, building_id=pk), "ledger:building"),
    "room": (lambda a, pk: selectors.room_get(actor=a, room_id=pk), "ledger:room"),
}
_UPDATE: dict[str, Callable[..., Any]] = {
    "organisation": lambda a, pk, v, values: services.organisation_update(
        actor=a, organisation_id=pk, version=v, values=values
    ),
    "thing": lambda a, pk, v, values: services.thing_update(
        actor=a, thing_id=pk, version=v, values=values
    ),
    "estate": lambda a, pk, v, values: services.estate_update(
        actor=a, estate_id=pk, version=v, name=values.get("estate_name", "")
    ),
    "building": lambda a, pk, v, values: services.building_update(
        actor=a, building_id=pk, version=v, values=values
    ),
    "room": lambda a, pk, v, values: services.room_update(
        actor=a, room_id=pk, version=v, values=values
    ),
}


def _fetch(request: HttpRequest, kind: str, pk: int) -> tuple[Any, Any, dict[str, bool]]:
    scope = scope_for(request.user)
    record = _GET[kind][0](scope, pk)
    return scope, record, selectors.record_abilities(actor=scope, record=record)


@login_required
def organisations(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    q = request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "")
    retired = request.GET.get("retired") == "1"
    sort = request.GET.get("sort", "")
    qs = selectors.organisation_list(actor=scope, q=q, kind=kind, retired=retired, sort=sort)
    page = tables.page(request, qs)
    return render(
        request,
        "ledger/organisations.html",
        {
            "page": page,
            "q": q,
            "kind": kind,
            "retired": retired,
            "kinds": KIND_LABELS,
            "can": selectors.ledger_abilities(actor=scope),
            "default_sort": "grid",
            "current_sort": tables.sort_key(sort, selectors.ORGANISATION_SORTS, "grid"),
            "sort_choices": [
                (f"{sign}{key}", f"{label} {arrow}")
                for key, label in _ORGANISATION_SORT_LABELS.items()
                for sign, arrow in (("", "↑"), ("-", "↓"))
            ],
            "xlsx_url": reverse("ledger:organisations_export"),
        },
    )


_ORGANISATION_SORT_LABELS = {
    "grid": gettext_lazy("Grid"),
    "name": gettext_lazy("Name"),
    "kind": gettext_lazy("Type"),
    "employees": gettext_lazy("Employees"),
    "credit_code": gettext_lazy("Credit code"),
}


@login_required
def organisations_export(request: HttpRequest) -> HttpResponse:
    """The organisations list as its table shows it (filters and sort), as a workbook: masked,
    audited by the service."""
    scope = scope_for(request.user)
    filters = {
        "q": request.GET.get("q", "").strip(),
        "kind": request.GET.get("kind", ""),
        "retired": request.GET.get("retired") == "1",
        "sort": request.GET.get("sort", ""),
    }
    try:
        data = services.organisations_export(actor=scope, **filters)
    except NotFound:
        raise
    except WanggeError as exc:
        messages.error(request, exc.message)
        return redirect(f"{reverse('ledger:organisations')}?{request.GET.urlencode()}".rstrip("?"))
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = 'attachment; filename="organisations.xlsx"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
def things(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    major = request.GET.get("major", "").strip()
    state = request.GET.get("state", "")
    retired = request.GET.get("retired") == "1"
    qs = selectors.thing_list(actor=scope, major=major, state=state, retired=retired)
    page = tables.page(request, qs)
    return render(
        request,
        "ledger/things.html",
        {
            "page": page,
            "major": major,
            "state": state,
            "retired": retired,
            "states": STATE_LABELS,
            "can": selectors.ledger_abilities(actor=scope),
            "querystring_base": f"major={major}&state={state}&retired={'1' if retired else ''}&",
        },
    )


@login_required
def record(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """One organisation, thing, estate, building or room."""
    scope, found, can = _fetch(request, kind, pk)
    context: dict[str, Any] = {
        "kind": kind,
        "record": found,
        "can": can,
        "history": selectors.record_history(actor=scope, kind=kind, record=found),
        "tile_url": tile_url(),
    }
    if kind == "estate":
        context["children"] = selectors.estate_buildings(actor=scope, estate=found)
    elif kind == "building":
        context["children"] = selectors.building_rooms(actor=scope, building=found)
    elif kind == "organisation":
        context["merge_panel"] = selectors.merge_panel(actor=scope, kind=kind, record=found)
    context["record_links"] = selectors.record_links(actor=scope, kind=kind, record=found)
    return render(request, "ledger/record.html", context)


@login_required
def record_edit(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    scope, found, can = _fetch(request, kind, pk)
    if not can["edit"]:
        raise NotFound()
    title = _("Correct %(name)s") % {"name": str(found)}
    if request.method != "POST":
        return _record_form(
            request, kind=kind, title=title, record=found, creating=False, sensitive=False
        )
    values = posted_values(request, kind, creating=False, sensitive=False)
    try:
        _UPDATE[kind](scope, found.pk, version_posted(request), values)
    except NotFound:
        raise
    except WanggeError as exc:
        return _record_form(
            request,
            kind=kind,
            title=title,
            record=found,
            creating=False,
            sensitive=False,
            posted=values,
            errors=field_errors(exc),
            extra={"error": exc.message},
            status=exc.status,
        )
    messages.success(request, _("Saved."))
    return redirect(_GET[kind][1], pk=found.pk)


@login_required
def record_move(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    scope, found, can = _fetch(request, kind, pk)
    if not can["edit"] or kind not in {"organisation", "thing"}:
        raise NotFound()
    context: dict[str, Any] = {"record": found, "kind": kind}
    if request.method == "POST":
        p = request.POST
        try:
            if kind == "thing":
                services.thing_move(
                    actor=scope,
                    thing_id=found.pk,
                    version=version_posted(request),
                    lon=p.get("lon"),
                    lat=p.get("lat"),
                )
            else:
                services.organisation_move(
                    actor=scope,
                    organisation_id=found.pk,
                    version=version_posted(request),
                    grid_code=p.get("grid_code", "").strip(),
                    room_code=p.get("room_code", "").strip(),
                    lon=p.get("lon") or None,
                    lat=p.get("lat") or None,
                )
        except NotFound:
            raise
        except WanggeError as exc:
            context["error"] = exc.message
        else:
            messages.success(request, _("Moved."))
            return redirect(_GET[kind][1], pk=found.pk)
    return render(request, "ledger/move.html", context, status=400 if "error" in context else 200)


@login_required
def record_retire(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    scope, found, can = _fetch(request, kind, pk)
    if not can["edit"]:
        raise NotFound()
    return retire_page(
        request,
        record=found,
        reasons=RETIRE_REASONS[kind],
        retire=lambda **kw: services.record_retire(actor=scope, kind=kind, pk=found.pk, **kw),
        restore=lambda **kw: services.record_restore(actor=scope, kind=kind, pk=found.pk, **kw),
        done=redirect(_GET[kind][1], pk=found.pk),
    )


@login_required
@require_POST
def organisation_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    scope = scope_for(request.user)
    try:
        value = services.organisation_reveal(
            actor=scope, organisation_id=pk, reason=request.POST.get("reason", "")
        )
    except NotFound:
        raise
    except WanggeError as exc:
        messages.error(request, exc.message)
        return redirect("ledger:organisation", pk=pk)
    _scope, found, can = _fetch(request, "organisation", pk)
    response = render(
        request,
        "ledger/record.html",
        {
            "kind": "organisation",
            "record": found,
            "can": can,
            "history": selectors.record_history(actor=scope, kind="organisation", record=found),
            "revealed": {"field": "phone", "value": value},
        },
    )
    response["Cache-Control"] = "no-store"
    return response


def _create(
    request: HttpRequest,
    *,
    kind: str,
    title: str,
    make: Callable[[Any, dict[str, Any]], Any],
    extra: dict[str, Any],
) -> HttpResponse:
    scope = scope_for(request.user)
    if not selectors.ledger_abilities(actor=scope)["edit"]:
        raise NotFound()
    if request.method != "POST":
        return _record_form(
            request, kind=kind, title=title, creating=True, sensitive=False, extra=extra
        )
    values = posted_values(request, kind, creating=True, sensitive=False)
    try:
        made = make(scope, values)
    except NotFound:
        raise
    except Conflict as exc:
        details = exc.details or {}
        extra = extra | {
            "conflict": exc.message,
            "candidates": details.get("candidates"),
            "existing": details.get("id"),
        }
        return _record_form(
            request,
            kind=kind,
            title=title,
            creating=True,
            sensitive=False,
            posted=values,
            extra=extra,
            status=409,
        )
    except WanggeError as exc:
        extra = extra | {"error": exc.message}
        return _record_form(
            request,
            kind=kind,
            title=title,
            creating=True,
            sensitive=False,
            posted=values,
            errors=field_errors(exc),
            extra=extra,
            status=400,
        )
    messages.success(request, _("%(name)s was added.") % {"name": str(made)})
    return redirect(_GET[kind][1], pk=made.pk)


def _place(request: HttpRequest) -> dict[str, Any]:
    p = request.POST if request.method == "POST" else request.GET
    return {k: p.get(k, "").strip() for k in ("grid_code", "room_code", "lon", "lat")}


@login_required
def organisation_new(request: HttpRequest) -> HttpResponse:
    place = _place(request)

    def make(scope: Any, values: dict[str, Any]) -> Any:
        return services.organisation_create(
            actor=scope,
            values=values,
            grid_code=place["grid_code"],
            room_code=place["room_code"],
            lon=place["lon"] or None,
            lat=place["lat"] or None,
            confirm_new=request.POST.get("confirm_new") == "1",
        )

    return _create(
        request,
        kind="organisation",
        title=_("Add an organisation"),
        make=make,
        extra={"place": place, "placement": "organisation"},
    )


@login_required
def thing_new(request: HttpRequest) -> HttpResponse:
    place = _place(request)

    def make(scope: Any, values: dict[str, Any]) -> Any:
        return services.thing_create(actor=scope, values=values, lon=place["lon"], lat=place["lat"])

    return _create(
        request,
        kind="thing",
        title=_("Add a component or facility"),
        make=make,
        extra={"place": place, "placement": "point"},
    )


@login_required
def addresses(request: HttpRequest) -> HttpResponse:
    """Estates in scope (the address spine: estate → building → room)."""
    scope = scope_for(request.user)
    grid = request.GET.get("grid", "").strip()
    q = request.GET.get("q", "").strip()
    try:
        estates = selectors.estate_list(actor=scope, grid=grid, q=q)
    except ValidationFailed as exc:  # a region name that names no region: say so
        messages.error(request, exc.message)
        estates = selectors.estate_list(actor=scope, q=q).none()
    page = tables.page(request, estates)
    return render(
        request,
        "ledger/addresses.html",
        {
            "page": page,
            "grid": grid,
            "q": q,
            "can": selectors.ledger_abilities(actor=scope),
            "querystring_base": urlencode({"grid": grid, "q": q}) + "&",
        },
    )


@login_required
def address_search(request: HttpRequest) -> HttpResponse:
    """Buildings of the standard-address ledger matching what was typed (htmx, from the
    hotline form): choosing one places the report at the building and in its grid."""
    scope = scope_for(request.user)
    q = request.GET.get("q", "").strip()
    return render(
        request,
        "ledger/_address_results.html",
        {"q": q, "results": selectors.address_search(actor=scope, q=q)},
    )


@login_required
def estate_new(request: HttpRequest) -> HttpResponse:
    place = _place(request)
    code = (request.POST.get("code") or "").strip()

    def make(scope: Any, values: dict[str, Any]) -> Any:
        return services.estate_create(
            actor=scope, code=code, name=values.get("estate_name", ""), grid_code=place["grid_code"]
        )

    return _create(
        request,
        kind="estate",
        title=_("Add an estate"),
        make=make,
        extra={"place": place, "placement": "estate", "code": code},
    )


@login_required
def building_new(request: HttpRequest, pk: int) -> HttpResponse:
    _scope, estate, _can = _fetch(request, "estate", pk)
    place = _place(request)
    number = (request.POST.get("number") or "").strip()

    def make(scope: Any, values: dict[str, Any]) -> Any:
        return services.building_create(
            actor=scope,
            estate_id=estate.pk,
            number=number,
            values=values,
            lon=place["lon"],
            lat=place["lat"],
        )

    return _create(
        request,
        kind="building",
        title=_("Add a building to %(estate)s") % {"estate": estate.name},
        make=make,
        extra={"place": place, "placement": "building", "number": number, "parent": estate},
    )


@login_required
def room_new(request: HttpRequest, pk: int) -> HttpResponse:
    _scope, building, _can = _fetch(request, "building", pk)

    def make(scope: Any, values: dict[str, Any]) -> Any:
        return services.room_create(actor=scope, building_id=building.pk, values=values)

    return _create(
        request,
        kind="room",
        title=_("Add a room to %(building)s") % {"building": building.address},
        make=make,
        extra={"placement": "room", "parent": building},
    )


def record_url(kind: str, pk: int) -> str:
    return reverse(_GET[kind][1], kwargs={"pk": pk})
