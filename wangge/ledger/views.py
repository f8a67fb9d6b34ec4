from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wangge.core import exports
from wangge.core.errors import NotFound, PermissionDenied, ValidationFailed
from wangge.core.jobs import job_access, job_get_for
from wangge.core.personal import reveal
from wangge.core.roles import Perm
from wangge.core.scope import Scope, scope_for, scope_requiring
from wangge.ledger import importers, selectors, services
from wangge.ledger import jobs as ledger_jobs
from wangge.ledger.columns import (
    CARE_LABELS,
    KIND_LABELS,
    POPULATION_LABELS,
    SPECIAL_LABELS,
    STATE_LABELS,
)


def _need(request: HttpRequest, perm: Perm) -> Scope:
    return scope_requiring(request.user, perm)


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    if not (scope.has(Perm.LEDGER_VIEW) or scope.has(Perm.THINGS_VIEW)):
        raise NotFound()
    return render(
        request,
        "ledger/overview.html",
        {
            "counts": selectors.ledger_counts(actor=scope),
            "can_view_people": scope.has(Perm.LEDGER_VIEW),
        },
    )


@login_required
def people(request: HttpRequest) -> HttpResponse:
    scope = _need(request, Perm.LEDGER_VIEW)
    f = {
        k: request.GET.get(k, "").strip()
        for k in ("q", "grid", "care_tag", "special_tag", "address")
    }
    qs = selectors.person_list(actor=scope, **f)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    from urllib.parse import urlencode

    return render(
        request,
        "ledger/people.html",
        {
            "page": page,
            "filters": f,
            "care_labels": CARE_LABELS,
            "special_labels": SPECIAL_LABELS
            if scope_for(request.user).has(Perm.LEDGER_SENSITIVE)
            else {},
            "population_labels": POPULATION_LABELS,
            "querystring_base": urlencode({k: v for k, v in f.items() if v}) + "&",
            "can_unmask": scope_for(request.user).has(Perm.PERSONAL_REVEAL),
        },
    )


@login_required
def person(request: HttpRequest, person_id: int) -> HttpResponse:
    scope = scope_for(request.user)
    found = selectors.person_get(actor=scope, person_id=person_id)
    services.person_viewed(actor=scope, person=found, via="page")
    special = selectors.person_special_tags(actor=scope, person=found)
    return render(
        request,
        "ledger/person.html",
        {
            "person": found,
            "household": selectors.person_household(actor=scope, person=found),
            "special_tags": [SPECIAL_LABELS.get(t, t) for t in special]
            if special is not None
            else None,
            "care_tags": [CARE_LABELS.get(t, t) for t in found.care_tag_list()],
            "population": POPULATION_LABELS.get(found.population_type, ""),
            "can_reveal": scope.has(Perm.PERSONAL_REVEAL),
            "revealed": request.session.pop("revealed_person", None),
        },
    )


@login_required
@require_POST
def person_reveal(request: HttpRequest, person_id: int) -> HttpResponse:
    scope = scope_for(request.user)
    found = selectors.person_get(actor=scope, person_id=person_id)
    field = request.POST.get("field", "")
    if field not in {"phone", "id_number"}:
        raise NotFound()
    try:
        reveal(
            actor=scope,
            object_type="person",
            object_id=found.pk,
            field=field,
            reason=request.POST.get("reason", ""),
        )
    except (PermissionDenied, ValidationFailed) as exc:
        messages.error(request, exc.message)
    else:
        request.session["revealed_person"] = {"field": field, "value": getattr(found, field)}
    return redirect("ledger:person", person_id=found.pk)


@login_required
def people_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    scope = _need(request, Perm.LEDGER_VIEW)
    f = {
        k: request.GET.get(k, "").strip()
        for k in ("q", "grid", "care_tag", "special_tag", "address")
    }
    unmasked = request.GET.get("unmasked") == "1"
    try:
        rows = services.people_export_rows(
            actor=scope,
            people=selectors.person_list(actor=scope, **f),
            unmasked=unmasked,
            reason=request.GET.get("reason", ""),
        )
        first = next(rows)
    except (PermissionDenied, ValidationFailed) as exc:
        messages.error(request, exc.message)
        return redirect("ledger:people")

    def stream() -> Iterator[str]:
        yield first
        yield from rows

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="people.csv"'
    return response


@login_required
def organisations(request: HttpRequest) -> HttpResponse:
    scope = _need(request, Perm.LEDGER_VIEW)
    q = request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "")
    page = Paginator(selectors.organisation_list(actor=scope, q=q, kind=kind), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "ledger/organisations.html",
        {
            "page": page,
            "q": q,
            "kind": kind,
            "kinds": KIND_LABELS,
            "querystring_base": f"q={q}&kind={kind}&",
        },
    )


@login_required
def things(request: HttpRequest) -> HttpResponse:
    scope = _need(request, Perm.THINGS_VIEW)
    major = request.GET.get("major", "").strip()
    state = request.GET.get("state", "")
    page = Paginator(selectors.thing_list(actor=scope, major=major, state=state), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "ledger/things.html",
        {
            "page": page,
            "major": major,
            "state": state,
            "states": STATE_LABELS,
            "querystring_base": f"major={major}&state={state}&",
        },
    )


@login_required
def ledger_map(request: HttpRequest) -> HttpResponse:
    _need(request, Perm.THINGS_VIEW)
    return render(request, "ledger/map.html", {"tile_url": settings.TILE_URL})


@login_required
def import_page(request: HttpRequest) -> HttpResponse:
    """Upload → a background job (progress bar on the job page); the worker runs it."""
    _need(request, Perm.LEDGER_EDIT)
    kind = request.POST.get("kind", "people")
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("Choose what to import and a file."))
        else:
            try:
                job = ledger_jobs.queue_import(
                    user=request.user,
                    kind=kind,
                    upload=upload,
                    dry_run=request.POST.get("dry_run") == "on",
                    on_duplicate="update"
                    if request.POST.get("on_duplicate") == "update"
                    else "skip",
                )
            except ValidationFailed as exc:
                messages.error(request, exc.message)
            else:
                return redirect("ledger:job", job_id=job.pk)
    return render(
        request, "ledger/import.html", {"kind": kind, "kinds": sorted(importers.IMPORTERS)}
    )


@login_required
def job_page(request: HttpRequest, job_id: int) -> HttpResponse:
    job = job_access(request.user, job_id)
    template = "ledger/_job.html" if request.headers.get("HX-Request") else "ledger/job.html"
    percent = None
    if job.total:
        percent = min(100, round(100 * job.progress / job.total))
    return render(request, template, {"job": job, "percent": percent, "result": job.result})


@login_required
def job_errors(request: HttpRequest, job_id: int) -> HttpResponse:
    job = job_get_for(request.user, job_id)
    data = exports.load(job.result.get("error_file", "")) if job else None
    if data is None:
        raise NotFound()
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = 'attachment; filename="ledger-errors.xlsx"'
    return response


@login_required
def template(request: HttpRequest, kind: str) -> HttpResponse:
    _need(request, Perm.LEDGER_VIEW)
    if kind not in importers.IMPORTERS:
        raise NotFound()
    response = HttpResponse(
        importers.template(kind),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.xlsx"'
    return response
