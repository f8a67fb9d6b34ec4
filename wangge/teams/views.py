"""Teams pages: each turns a request into a selector or service call and the answer into a
page. Who may do what is decided behind those calls (`services.may_*`); what a page offers
comes from `selectors.*_abilities`, answered by the same rules."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from wangge.core import exports, tables
from wangge.core.errors import NotFound, PermissionDenied, ValidationFailed, WanggeError
from wangge.core.scope import Scope, scope_for
from wangge.core.tabular import upload_bytes
from wangge.core.validators import InvalidCode, parse_id_number, parse_mobile
from wangge.regions.selectors import boundary_current
from wangge.teams import card_images, roster, selectors, services
from wangge.teams.forms import (
    AssignmentForm,
    EndForm,
    ExportForm,
    RevealForm,
    RosterUploadForm,
)
from wangge.teams.models import StaffMember, TeamRole

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _refusal_is_403(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A service's PermissionDenied (the actor sees the object but may not do this) becomes the
    403 page; NotFound is already the 404 page (core.middleware)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            raise Forbidden(exc.message) from None

    return wrapped


@login_required
def coverage(request: HttpRequest) -> HttpResponse:
    report = selectors.coverage(actor=scope_for(request.user))
    return render(request, "teams/coverage.html", {"report": report})


@login_required
@require_http_methods(["GET", "POST"])
@_refusal_is_403
def team(request: HttpRequest, code: str) -> HttpResponse:
    scope = scope_for(request.user)
    view = selectors.team_get(actor=scope, grid_code=code)
    form = AssignmentForm(initial={"valid_from": dt.date.today()})  # noqa: DTZ011
    if request.method == "POST":
        # Refused before the form is read: a read-only actor learns nothing from its errors.
        services.team_edit_check(actor=scope, grid_code=code)
        form = AssignmentForm(request.POST)
        if form.is_valid():
            try:
                _assign(scope, code, form.cleaned_data)
            except ValidationFailed as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Saved."))
                return redirect("teams:team", code=code)
    return render(
        request,
        "teams/team.html",
        {
            "view": view,
            "abilities": selectors.team_abilities(actor=scope, grid_code=code),
            "form": form,
            "roles": [(r, TeamRole(r).label, view.members[r]) for r in view.members],
        },
    )


def _assign(scope: Scope, code: str, data: dict[str, Any]) -> None:
    try:
        id_number = parse_id_number(str(data["id_number"])).value
        phone = parse_mobile(str(data["phone"])) if data["phone"] else ""
    except InvalidCode as exc:
        raise ValidationFailed(exc.message, code=exc.code) from None
    services.staff_assign(
        actor=scope,
        grid_code=code,
        data=services.StaffData(
            name=str(data["name"]),
            gender=str(data["gender"] or ""),
            phone=phone,
            id_number=id_number,
            political_status=str(data["political_status"] or ""),
            employer=str(data["employer"] or ""),
            department=data["department"],
        ),
        role=str(data["role"]),
        valid_from=data["valid_from"],
        department=data["department"] if data["role"] == TeamRole.SPECIALIST else None,
    )


@login_required
@require_POST
@_refusal_is_403
def assignment_end(request: HttpRequest, assignment_id: int) -> HttpResponse:
    scope = scope_for(request.user)
    assignment = selectors.assignment_get(actor=scope, assignment_id=assignment_id)
    form = EndForm(request.POST)
    if form.is_valid():
        try:
            services.assignment_end(
                actor=scope, assignment_id=assignment.pk, valid_to=form.cleaned_data["valid_to"]
            )
            messages.success(request, _("The assignment has ended; it stays in the history."))
        except ValidationFailed as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, _("Give the last day as a date."))
    return redirect("teams:team", code=assignment.grid_code)


@login_required
@require_POST
@never_cache
@_refusal_is_403
def staff_reveal(request: HttpRequest, staff_id: int) -> HttpResponse:
    """The person's page with the one full value, in this response only (never the session)."""
    scope = scope_for(request.user)
    staff = selectors.staff_get(actor=scope, staff_id=staff_id)
    form = RevealForm(request.POST)
    if not form.is_valid():
        return _staff_page(
            request, scope, staff, error=_("Give a reason of at least 4 characters."), status=400
        )
    try:
        value = services.staff_reveal(
            actor=scope,
            staff_id=staff.pk,
            field=form.cleaned_data["field"],
            reason=form.cleaned_data["reason"],
        )
    except ValidationFailed as exc:
        return _staff_page(request, scope, staff, error=exc.message, status=400)
    return _staff_page(request, scope, staff, revealed=value)


@login_required
@require_http_methods(["GET", "POST"])
@never_cache
@_refusal_is_403
def card(request: HttpRequest, code: str) -> HttpResponse:
    """The printable grid notice card (网格公示牌): name, code, area, team, phones, supervision.

    Full phones only in answer to the card's own POST (CSRF-protected): a link or an image on
    another site cannot make the browser reveal them."""
    scope = scope_for(request.user)
    view = selectors.team_get(actor=scope, grid_code=code)
    full = request.method == "POST"
    if full:
        services.team_phones_reveal(actor=scope, grid_code=code)
    boundary = boundary_current(actor=scope, region=view.grid)
    # The residents' report page, opened on this grid: what a passer-by scans on the wall.
    report_url = request.build_absolute_uri(reverse("events:public_report")) + f"?grid={code}"
    return render(
        request,
        "teams/card.html",
        {
            "report_url": report_url,
            "qr": card_images.qr_data_uri(report_url),
            "sketch": card_images.sketch_data_uri(boundary.geojson if boundary else None),
            "full": full,
            "abilities": selectors.team_abilities(actor=scope, grid_code=code),
            "view": view,
            "area_m2": boundary.area_m2 if boundary else None,
            "supervision_phone": settings.SUPERVISION_PHONE,
            "roles": [(TeamRole(r).label, view.members[r]) for r in view.members],
        },
    )


@login_required
def history(request: HttpRequest, code: str) -> HttpResponse:
    scope = scope_for(request.user)
    rows = selectors.team_history(actor=scope, grid_code=code)
    view = selectors.team_get(actor=scope, grid_code=code)
    day_text = request.GET.get("date", "")
    leader = None
    day = None
    if day_text:
        try:
            day = dt.date.fromisoformat(day_text)
            leader = selectors.leader_on(actor=scope, grid_code=code, day=day)
        except ValueError:
            messages.error(request, _("The date must look like 2022-04-19."))
    return render(
        request,
        "teams/history.html",
        {"view": view, "rows": rows, "day": day, "leader": leader, "asked": bool(day)},
    )


@login_required
def staff_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    role = request.GET.get("role", "")
    if role not in TeamRole.values:
        role = ""
    scope = scope_for(request.user)
    sort = request.GET.get("sort", "")
    try:
        qs = selectors.staff_list(actor=scope, q=q, role=role, sort=sort)
    except WanggeError as exc:  # e.g. a full phone number from a role that may not search so
        if isinstance(exc, NotFound):
            raise
        messages.error(request, exc.message)
        qs = selectors.staff_list(actor=scope, q="", role=role, sort=sort)
    page = tables.page(request, qs)
    return render(
        request,
        "teams/staff_list.html",
        {
            "page": page,
            "q": q,
            "role": role,
            "roles": TeamRole.choices,
            "default_sort": "name",
            "current_sort": tables.sort_key(sort, selectors.STAFF_SORTS, "name"),
            "sort_choices": [
                (f"{sign}{key}", f"{label} {arrow}")
                for key, label in _STAFF_SORT_LABELS.items()
                for sign, arrow in (("", "↑"), ("-", "↓"))
            ],
            "xlsx_url": reverse("teams:staff_export"),
        },
    )


@login_required
def staff_export(request: HttpRequest) -> HttpResponse:
    """The staff directory as its table shows it (filters, sort), as a masked workbook
    (services.staff_export scopes, limits and audits it)."""
    role = request.GET.get("role", "")
    try:
        data = services.staff_export(
            actor=scope_for(request.user),
            q=request.GET.get("q", "").strip(),
            role=role if role in TeamRole.values else "",
            sort=request.GET.get("sort", ""),
        )
    except NotFound:
        raise
    except WanggeError as exc:
        messages.error(request, exc.message)
        return redirect(f"{reverse('teams:staff_list')}?{request.GET.urlencode()}".rstrip("?"))
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = 'attachment; filename="staff.xlsx"'
    response["Cache-Control"] = "no-store"
    return response


_STAFF_SORT_LABELS = {
    "name": pgettext_lazy("person", "Name"),
    "gender": gettext_lazy("Gender"),
    "political_status": gettext_lazy("Political status"),
    "employer": gettext_lazy("Employer"),
}


@login_required
def staff_detail(request: HttpRequest, staff_id: int) -> HttpResponse:
    scope = scope_for(request.user)
    return _staff_page(request, scope, selectors.staff_get(actor=scope, staff_id=staff_id))


def _staff_page(
    request: HttpRequest,
    scope: Scope,
    staff: StaffMember,
    *,
    revealed: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "teams/staff.html",
        {
            "staff": staff,
            "assignments": selectors.staff_assignments(actor=scope, staff=staff),
            "abilities": selectors.staff_abilities(actor=scope, staff=staff),
            "revealed": revealed,
            "error": error,
        },
        status=status,
    )


@login_required
def roster_page(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    abilities = selectors.roster_abilities(actor=scope)
    result = None
    form = RosterUploadForm()
    if request.method == "POST":
        form = RosterUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = roster.roster_import(
                    actor=scope,
                    data=upload_bytes(upload),
                    filename=upload.name,
                    dry_run=form.cleaned_data["dry_run"],
                    all_or_nothing=not form.cleaned_data["partial"],
                )
            except ValidationFailed as exc:
                form.add_error("file", exc.message)
            else:
                if result.rejected_rows:
                    request.session["roster_errors"] = exports.store(result.error_file())
    return render(
        request,
        "teams/roster.html",
        {
            "form": form,
            "result": result,
            "abilities": abilities,
            "export_form": ExportForm(),
            "error_token": request.session.get("roster_errors") if result else None,
        },
    )


@login_required
def roster_errors(request: HttpRequest) -> HttpResponse:
    """The last error file of this session's import (only its uploader can fetch it)."""
    data = exports.load(request.session.get("roster_errors", ""))
    if data is None:
        raise NotFound()
    return _xlsx(data, "roster-errors.xlsx")


@login_required
def roster_template(request: HttpRequest) -> HttpResponse:
    return _xlsx(roster.template(actor=scope_for(request.user)), "roster-template.xlsx")


@login_required
@require_http_methods(["GET", "POST"])
@never_cache
@_refusal_is_403
def roster_export(request: HttpRequest) -> HttpResponse:
    """GET: the masked export. POST (CSRF-protected, with a reason): the unmasked one, so that
    another site cannot start it from a link."""
    scope = scope_for(request.user)
    if request.method == "GET":
        return _xlsx(roster.roster_export(actor=scope), "roster.xlsx")
    form = ExportForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason of at least 4 characters."))
        return redirect("teams:roster")
    try:
        data = roster.roster_export(actor=scope, unmasked=True, reason=form.cleaned_data["reason"])
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        return redirect("teams:roster")
    return _xlsx(data, "roster.xlsx")


def _xlsx(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
