from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wangge.core import exports
from wangge.core.errors import NotFound, PermissionDenied, ValidationFailed
from wangge.core.personal import reveal
from wangge.core.roles import Perm
from wangge.core.scope import scope_for
from wangge.core.tabular import upload_bytes
from wangge.core.validators import InvalidCode, parse_id_number, parse_mobile
from wangge.teams import roster, selectors, services
from wangge.teams.forms import AssignmentForm, EndForm, RevealForm, RosterUploadForm
from wangge.teams.models import TeamRole


@login_required
def coverage(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    if not scope.has(Perm.TEAMS_VIEW):
        raise NotFound()
    report = selectors.coverage(actor=scope)
    return render(request, "teams/coverage.html", {"report": report})


@login_required
def team(request: HttpRequest, code: str) -> HttpResponse:
    scope = scope_for(request.user)
    view = selectors.team_get(actor=scope, grid_code=code)
    can_edit = scope.covers(code, Perm.TEAMS_EDIT)
    form = AssignmentForm(initial={"valid_from": dt.date.today()})  # noqa: DTZ011
    if request.method == "POST":
        if not can_edit:
            raise NotFound()
        form = AssignmentForm(request.POST)
        if form.is_valid():
            try:
                _save_assignment(scope, code, form.cleaned_data)
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
            "can_edit": can_edit,
            "can_reveal": scope.has(Perm.PERSONAL_REVEAL),
            "form": form,
            "roles": [(r, TeamRole(r).label, view.members[r]) for r in view.members],
            "revealed": request.session.pop("revealed", None),
        },
    )


def _save_assignment(scope: object, code: str, data: dict[str, object]) -> None:
    try:
        id_number = parse_id_number(str(data["id_number"])).value
        phone = parse_mobile(str(data["phone"])) if data["phone"] else ""
    except InvalidCode as exc:
        raise ValidationFailed(exc.message, code=exc.code) from None
    staff_data = services.StaffData(
        name=str(data["name"]),
        gender=str(data["gender"] or ""),
        phone=phone,
        id_number=id_number,
        political_status=str(data["political_status"] or ""),
        employer=str(data["employer"] or ""),
        department=data["department"],  # type: ignore[arg-type]
    )
    existing = services.staff_find(id_number=id_number)
    staff, _changed = services.staff_save(
        actor=scope, data=staff_data, region_code=code[:12], staff=existing
    )
    services.assignment_start(
        actor=scope,
        staff=staff,
        grid_code=code,
        role=str(data["role"]),
        valid_from=data["valid_from"],  # type: ignore[arg-type]
        department=data["department"] if data["role"] == TeamRole.SPECIALIST else None,  # type: ignore[arg-type]
    )


@login_required
@require_POST
def assignment_end(request: HttpRequest, assignment_id: int) -> HttpResponse:
    scope = scope_for(request.user)
    assignment = selectors.assignment_get(
        actor=scope, assignment_id=assignment_id, perm=Perm.TEAMS_EDIT
    )
    form = EndForm(request.POST)
    if form.is_valid():
        try:
            services.assignment_end(
                actor=scope, assignment=assignment, valid_to=form.cleaned_data["valid_to"]
            )
            messages.success(request, _("The assignment has ended; it stays in the history."))
        except ValidationFailed as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, _("Give the last day as a date."))
    return redirect("teams:team", code=assignment.grid_code)


@login_required
@require_POST
def staff_reveal(request: HttpRequest, staff_id: int) -> HttpResponse:
    scope = scope_for(request.user)
    staff = selectors.staff_get(actor=scope, staff_id=staff_id)
    form = RevealForm(request.POST)
    back = request.POST.get("back", "")
    if not form.is_valid():
        messages.error(request, _("Give a reason of at least 4 characters."))
    else:
        try:
            reveal(
                actor=scope,
                object_type="staff",
                object_id=staff.pk,
                field=form.cleaned_data["field"],
                reason=form.cleaned_data["reason"],
            )
            request.session["revealed"] = {
                "staff": staff.pk,
                "field": form.cleaned_data["field"],
                "value": getattr(staff, form.cleaned_data["field"]),
            }
        except (PermissionDenied, ValidationFailed) as exc:
            messages.error(request, exc.message)
    if back.startswith("/teams/") and "//" not in back:
        return redirect(back)
    return redirect("teams:staff", staff_id=staff.pk)


@login_required
def card(request: HttpRequest, code: str) -> HttpResponse:
    """The printable grid notice card (网格公示牌): name, code, area, team, phones, supervision."""
    scope = scope_for(request.user)
    view = selectors.team_get(actor=scope, grid_code=code)
    from wangge.regions.selectors import boundary_current

    boundary = boundary_current(view.grid)
    # The 滨州 regulation has grid workers' phones posted publicly; printing them in full is a
    # reveal like any other: the role is checked and the look is audited with its purpose.
    full = request.GET.get("full") == "1"
    if full:
        try:
            reveal(
                actor=scope,
                object_type="team",
                object_id=code,
                field="phone",
                reason=_("Printing the grid notice card for public posting"),
            )
        except PermissionDenied as exc:
            messages.error(request, exc.message)
            full = False
    return render(
        request,
        "teams/card.html",
        {
            "full": full,
            "can_reveal": scope.has(Perm.PERSONAL_REVEAL),
            "view": view,
            "area_km2": boundary.area_m2 / 1e6 if boundary else None,
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
    scope = scope_for(request.user)
    if not scope.has(Perm.TEAMS_VIEW):
        raise NotFound()
    q = request.GET.get("q", "").strip()
    role = request.GET.get("role", "")
    if role not in TeamRole.values:
        role = ""
    qs = selectors.staff_list(actor=scope, q=q, role=role)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "teams/staff_list.html",
        {
            "page": page,
            "q": q,
            "role": role,
            "roles": TeamRole.choices,
            "querystring_base": f"q={q}&role={role}&",
        },
    )


@login_required
def staff_detail(request: HttpRequest, staff_id: int) -> HttpResponse:
    scope = scope_for(request.user)
    staff = selectors.staff_get(actor=scope, staff_id=staff_id)
    return render(
        request,
        "teams/staff.html",
        {
            "staff": staff,
            "assignments": selectors.staff_assignments(actor=scope, staff=staff),
            "can_reveal": scope.has(Perm.PERSONAL_REVEAL),
            "revealed": request.session.pop("revealed", None),
        },
    )


@login_required
def roster_page(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    if not scope.has(Perm.TEAMS_VIEW):
        raise NotFound()
    can_edit = scope.has(Perm.TEAMS_EDIT)
    result = None
    form = RosterUploadForm()
    if request.method == "POST":
        if not can_edit:
            raise NotFound()
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
            "can_edit": can_edit,
            "can_unmask": scope.has(Perm.PERSONAL_REVEAL),
            "error_token": request.session.get("roster_errors") if result else None,
        },
    )


@login_required
def roster_errors(request: HttpRequest) -> HttpResponse:
    """The last error file of this session's import (only its uploader can fetch it)."""
    data = exports.load(request.session.get("roster_errors", ""))
    if data is None:
        raise NotFound()
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = 'attachment; filename="roster-errors.xlsx"'
    return response


@login_required
def roster_template(request: HttpRequest) -> HttpResponse:
    if not scope_for(request.user).has(Perm.TEAMS_VIEW):
        raise NotFound()
    response = HttpResponse(
        roster.template(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="roster-template.xlsx"'
    return response


@login_required
def roster_export(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    unmasked = request.GET.get("unmasked") == "1"
    reason = request.GET.get("reason", "").strip()
    if unmasked and len(reason) < 4:
        messages.error(request, _("Give a reason of at least 4 characters."))
        return redirect("teams:roster")
    try:
        data = roster.roster_export(actor=scope, unmasked=unmasked, reason=reason)
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        return redirect("teams:roster")
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = 'attachment; filename="roster.xlsx"'
    return response
