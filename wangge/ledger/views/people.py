"""People pages: the list, one person, add, correct, move, retire, reveal, export; households.
The views translate a request into a service or selector call and the answer back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from wangge.core import selectors as core_selectors
from wangge.core import tables
from wangge.core.errors import Conflict, NotFound, ValidationFailed, WanggeError
from wangge.core.personal import age_on
from wangge.core.scope import scope_for
from wangge.ledger import selectors, services
from wangge.ledger.columns import CARE_LABELS, POPULATION_LABELS, SPECIAL_LABELS
from wangge.ledger.models import RetireReason
from wangge.ledger.services.people import PERSON_RETIRE_REASONS
from wangge.ledger.views.common import field_errors, form_fields, posted_values, version_posted

FILTERS = ("q", "grid", "care_tag", "special_tag", "address", "sort")


def _filters(request: HttpRequest) -> dict[str, Any]:
    data = request.POST if request.method == "POST" else request.GET
    found: dict[str, Any] = {k: data.get(k, "").strip() for k in FILTERS}
    found["retired"] = data.get("retired") == "1"
    return found


@login_required
def people(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    f = _filters(request)
    can = selectors.ledger_abilities(actor=scope)
    try:
        qs = selectors.person_list(actor=scope, **f)
    except WanggeError as exc:
        if isinstance(exc, NotFound):
            raise
        messages.error(request, exc.message)
        if exc.code == "no_such_region":  # a region name that names no region: nobody
            qs = selectors.person_list(actor=scope, **(f | {"grid": ""})).none()
        else:
            qs = selectors.person_list(actor=scope, **(f | {"q": ""}))
    page = tables.page(request, qs)
    today = timezone.localdate()
    for p in page:
        p.age = age_on(p.birth_date, today)
    return render(
        request,
        "ledger/people.html",
        {
            "page": page,
            "filters": f,
            "care_labels": CARE_LABELS,
            "special_labels": SPECIAL_LABELS if can["sensitive"] else {},
            "population_labels": POPULATION_LABELS,
            "can": can,
            "default_sort": "grid",
            "current_sort": tables.sort_key(f["sort"], selectors.PERSON_SORTS, "grid"),
            "sort_choices": [
                (f"{sign}{key}", f"{label} {arrow}")
                for key, label in _PEOPLE_SORT_LABELS.items()
                for sign, arrow in (("", "↑"), ("-", "↓"))
            ],
            "saved_filters": core_selectors.saved_filters(actor=scope, list_name="ledger.people"),
            "saved_list": "ledger.people",
            "xlsx_url": reverse("ledger:people_export_xlsx"),
            "csv_url": reverse("ledger:people_export"),
        },
    )


_PEOPLE_SORT_LABELS = {
    "grid": gettext_lazy("Grid"),
    "name": gettext_lazy("Name"),
    "age": gettext_lazy("Age"),
    "gender": gettext_lazy("Gender"),
    "address": gettext_lazy("Address"),
}


@login_required
def person(
    request: HttpRequest, person_id: int, revealed: dict[str, str] | None = None
) -> HttpResponse:
    scope = scope_for(request.user)
    found = selectors.person_get(actor=scope, person_id=person_id)
    services.person_viewed(actor=scope, person=found, via="page")
    special = selectors.person_special_tags(actor=scope, person=found)
    return render(
        request,
        "ledger/person.html",
        {
            "person": found,
            "age": age_on(found.birth_date, timezone.localdate()),
            "household": selectors.person_household(actor=scope, person=found),
            "special_tags": [SPECIAL_LABELS.get(t, t) for t in special]
            if special is not None
            else None,
            "care_tags": [CARE_LABELS.get(t, t) for t in found.care_tag_list()],
            "population": POPULATION_LABELS.get(found.population_type, ""),
            "can": selectors.record_abilities(actor=scope, record=found),
            "history": selectors.record_history(actor=scope, kind="person", record=found),
            "merge_panel": selectors.merge_panel(actor=scope, kind="person", record=found),
            "record_links": selectors.record_links(actor=scope, kind="person", record=found),
            "retired_label": RetireReason(found.retired_reason).label
            if found.retired_reason
            else "",
            # Shown in this response only: never kept in the session (security finding 5).
            "revealed": revealed,
        },
    )


@login_required
@require_POST
def person_reveal(request: HttpRequest, person_id: int) -> HttpResponse:
    field = request.POST.get("field", "")
    try:
        value = services.person_reveal(
            actor=scope_for(request.user),
            person_id=person_id,
            field=field,
            reason=request.POST.get("reason", ""),
        )
    except NotFound:
        raise
    except WanggeError as exc:
        messages.error(request, exc.message)
        return redirect("ledger:person", person_id=person_id)
    response = person(request, person_id, revealed={"field": field, "value": value})
    response["Cache-Control"] = "no-store"
    return response


@login_required
def people_export(request: HttpRequest, xlsx: bool = False) -> HttpResponse | StreamingHttpResponse:
    """GET: the masked export. POST (a form with CSRF and a reason): the full one. The list's
    filters and sort; CSV (streamed) or, at people/export.xlsx, an Excel workbook."""
    scope = scope_for(request.user)
    f = _filters(request)
    try:
        if request.method == "POST":
            rows = services.people_export(
                actor=scope, unmasked=True, reason=request.POST.get("reason", ""), xlsx=xlsx, **f
            )
        else:
            rows = services.people_export(actor=scope, xlsx=xlsx, **f)
    except NotFound:
        raise
    except WanggeError as exc:
        messages.error(request, exc.message)
        shown = {k: ("1" if v is True else v) for k, v in f.items() if v}
        return redirect(f"{reverse('ledger:people')}?{urlencode(shown)}".rstrip("?"))
    response: HttpResponse | StreamingHttpResponse
    if isinstance(rows, bytes):
        response = HttpResponse(
            rows,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = 'attachment; filename="people.xlsx"'
    else:
        response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="people.csv"'
    response["Cache-Control"] = "no-store"
    return response


def _record_form(
    request: HttpRequest,
    *,
    kind: str,
    title: str,
    record: Any = None,
    creating: bool,
    sensitive: bool,
    posted: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    extra: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "ledger/record_form.html",
        {
            "title": title,
            "kind": kind,
            "record": record,
            "creating": creating,
            "fields": form_fields(
                kind,
                record=record,
                posted=posted,
                creating=creating,
                sensitive=sensitive,
                errors=errors,
            ),
            **(extra or {}),
        },
        status=status,
    )


@login_required
def person_new(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    can = selectors.ledger_abilities(actor=scope)
    if not can["edit"]:
        raise NotFound()
    place = {
        "grid_code": request.POST.get("grid_code", request.GET.get("grid", "")).strip(),
        "room_code": request.POST.get("room_code", "").strip(),
    }
    extra: dict[str, Any] = {"place": place, "placement": "person"}
    if request.method != "POST":
        return _record_form(
            request,
            kind="person",
            title=_("Add a person"),
            creating=True,
            sensitive=can["sensitive"],
            extra=extra,
        )
    values = posted_values(request, "person", creating=True, sensitive=can["sensitive"])
    try:
        made = services.person_create(
            actor=scope,
            values=values,
            confirm_new=request.POST.get("confirm_new") == "1",
            source="page",
            **place,
        )
    except services.Referred as exc:
        messages.info(request, exc.message)
        return redirect("ledger:people")
    except Conflict as exc:
        details = exc.details or {}
        extra.update(
            conflict=exc.message, candidates=details.get("candidates"), existing=details.get("id")
        )
        return _record_form(
            request,
            kind="person",
            title=_("Add a person"),
            creating=True,
            sensitive=can["sensitive"],
            posted=values,
            extra=extra,
            status=409,
        )
    except (ValidationFailed, WanggeError) as exc:
        if isinstance(exc, NotFound):
            raise
        extra["error"] = exc.message
        return _record_form(
            request,
            kind="person",
            title=_("Add a person"),
            creating=True,
            sensitive=can["sensitive"],
            posted=values,
            errors=field_errors(exc),
            extra=extra,
            status=400,
        )
    messages.success(request, _("%(name)s was added.") % {"name": made.name})
    return redirect("ledger:person", person_id=made.pk)


@login_required
def person_edit(request: HttpRequest, person_id: int) -> HttpResponse:
    scope = scope_for(request.user)
    found = selectors.person_get(actor=scope, person_id=person_id)
    can = selectors.record_abilities(actor=scope, record=found)
    if not can["edit"]:
        raise NotFound()
    title = _("Correct %(name)s") % {"name": found.name}
    if request.method != "POST":
        return _record_form(
            request,
            kind="person",
            title=title,
            record=found,
            creating=False,
            sensitive=can["sensitive"],
        )
    values = posted_values(request, "person", creating=False, sensitive=can["sensitive"])
    try:
        services.person_update(
            actor=scope, person_id=found.pk, version=version_posted(request), values=values
        )
    except NotFound:
        raise
    except WanggeError as exc:
        return _record_form(
            request,
            kind="person",
            title=title,
            record=found,
            creating=False,
            sensitive=can["sensitive"],
            posted=values,
            errors=field_errors(exc),
            extra={"error": exc.message},
            status=exc.status,
        )
    messages.success(request, _("Saved."))
    return redirect("ledger:person", person_id=found.pk)


@login_required
def person_move(request: HttpRequest, person_id: int) -> HttpResponse:
    scope = scope_for(request.user)
    found = selectors.person_get(actor=scope, person_id=person_id)
    if not selectors.record_abilities(actor=scope, record=found)["edit"]:
        raise NotFound()
    context: dict[str, Any] = {"record": found, "kind": "person"}
    if request.method == "POST":
        try:
            services.person_move(
                actor=scope,
                person_id=found.pk,
                version=version_posted(request),
                room_code=request.POST.get("room_code", "").strip(),
                grid_code=request.POST.get("grid_code", "").strip(),
            )
        except NotFound:
            raise
        except WanggeError as exc:
            context["error"] = exc.message
        else:
            messages.success(request, _("Moved."))
            return redirect("ledger:person", person_id=found.pk)
    return render(request, "ledger/move.html", context, status=400 if "error" in context else 200)


def retire_page(
    request: HttpRequest,
    *,
    record: Any,
    reasons: set[RetireReason],
    retire: Callable[..., Any],
    restore: Callable[..., Any],
    done: HttpResponse,
) -> HttpResponse:
    """The retire (or undo) form of any ledger record: `retire(version=, reason=, on=, note=)`
    and `restore(version=)` are the record's services; `done` answers a success."""
    context: dict[str, Any] = {
        "record": record,
        "reasons": [(r.value, r.label) for r in RetireReason if r in reasons],
        "today": timezone.localdate().isoformat(),
    }
    if request.method == "POST":
        version = version_posted(request)
        try:
            if request.POST.get("restore") == "1":
                restore(version=version)
            else:
                on = request.POST.get("on", "")
                retire(
                    version=version,
                    reason=request.POST.get("reason", ""),
                    on=parse_date(on) if on else None,
                    note=request.POST.get("note", ""),
                )
        except NotFound:
            raise
        except (WanggeError, ValueError) as exc:
            context["error"] = getattr(exc, "message", _("The date must look like 2024-04-19."))
        else:
            messages.success(request, _("Saved."))
            return done
    return render(request, "ledger/retire.html", context, status=400 if "error" in context else 200)


@login_required
def person_retire(request: HttpRequest, person_id: int) -> HttpResponse:
    scope = scope_for(request.user)
    found = selectors.person_get(actor=scope, person_id=person_id)
    if not selectors.record_abilities(actor=scope, record=found)["edit"]:
        raise NotFound()
    return retire_page(
        request,
        record=found,
        reasons=PERSON_RETIRE_REASONS,
        retire=lambda **kw: services.person_retire(actor=scope, person_id=found.pk, **kw),
        restore=lambda **kw: services.person_restore(actor=scope, person_id=found.pk, **kw),
        done=redirect("ledger:person", person_id=found.pk),
    )


# -- households ------------------------------------------------------------------------------


@login_required
def household(request: HttpRequest, household_id: int) -> HttpResponse:
    scope = scope_for(request.user)
    found = selectors.household_get(actor=scope, household_id=household_id)
    can = selectors.record_abilities(actor=scope, record=found)
    error = ""
    if request.method == "POST":
        if not can["edit"]:
            raise NotFound()
        action = request.POST.get("action", "")
        target = request.POST.get("person_id", "")
        version = version_posted(request)
        try:
            if not target.isdigit():
                raise ValidationFailed(_("Choose a person."), code="person_required")
            if action == "add":
                services.household_add_member(
                    actor=scope,
                    household_id=found.pk,
                    version=version,
                    person_id=int(target),
                    relation=request.POST.get("relation", ""),
                )
            elif action == "remove":
                services.household_remove_member(
                    actor=scope, household_id=found.pk, version=version, person_id=int(target)
                )
            elif action == "head":
                services.household_set_head(
                    actor=scope, household_id=found.pk, version=version, person_id=int(target)
                )
            else:
                raise ValidationFailed(_("Unknown action."), code="unknown_action")
        except NotFound:
            raise
        except WanggeError as exc:
            error = exc.message
        else:
            messages.success(request, _("Saved."))
            return redirect("ledger:household", household_id=found.pk)
        found = selectors.household_get(actor=scope, household_id=household_id)
    return render(
        request,
        "ledger/household.html",
        {
            "household": found,
            "members": selectors.household_members(actor=scope, household=found),
            "candidates": selectors.household_candidates(actor=scope, household=found)
            if can["edit"]
            else [],
            "can": can,
            "error": error,
            "history": selectors.record_history(actor=scope, kind="household", record=found),
        },
        status=400 if error else 200,
    )


@login_required
@require_POST
def household_new(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    head = request.POST.get("head_id", "")
    try:
        made = services.household_create(
            actor=scope,
            code=request.POST.get("code", ""),
            head_id=int(head) if head.isdigit() else 0,
            room_code=request.POST.get("room_code", "").strip(),
        )
    except NotFound:
        raise
    except WanggeError as exc:
        messages.error(request, exc.message)
        return (
            redirect("ledger:person", person_id=int(head))
            if head.isdigit()
            else redirect("ledger:people")
        )
    return redirect("ledger:household", household_id=made.pk)


# -- referrals -------------------------------------------------------------------------------


@login_required
def referrals(request: HttpRequest) -> HttpResponse:
    """Entries referred to the district (district centre only)."""
    scope = scope_for(request.user)
    if request.method == "POST":
        target = request.POST.get("referral_id", "")
        try:
            services.referral_resolve(
                actor=scope,
                referral_id=int(target) if target.isdigit() else 0,
                outcome=request.POST.get("outcome", ""),
                note=request.POST.get("note", ""),
            )
        except NotFound:
            raise
        except WanggeError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Saved."))
        return redirect("ledger:referrals")
    page = tables.page(request, selectors.referral_list(actor=scope))
    return render(request, "ledger/referrals.html", {"page": page, "querystring_base": ""})
