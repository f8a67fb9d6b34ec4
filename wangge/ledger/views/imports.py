from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from wangge.core import exports
from wangge.core.errors import NotFound, ValidationFailed
from wangge.core.jobs import job_access, job_get_for
from wangge.core.scope import scope_for
from wangge.ledger import importers, selectors
from wangge.ledger import jobs as ledger_jobs
from wangge.regions.basemap import tile_url


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    return render(
        request,
        "ledger/overview.html",
        {
            "can": selectors.ledger_abilities(actor=scope),
            "counts": selectors.ledger_counts(actor=scope),
        },
    )


@login_required
def ledger_map(request: HttpRequest) -> HttpResponse:
    selectors.things_visible(actor=scope_for(request.user))
    return render(request, "ledger/map.html", {"tile_url": tile_url()})


@login_required
def import_page(request: HttpRequest) -> HttpResponse:
    """Upload → a background job (progress bar on the job page); the worker runs it."""
    if not selectors.ledger_abilities(actor=scope_for(request.user))["edit"]:
        raise NotFound()
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
        request,
        "ledger/import.html",
        {
            "kind": kind,
            "kinds": [(k, importers.import_label(k)) for k in sorted(importers.IMPORTERS)],
        },
    )


@login_required
def job_page(request: HttpRequest, job_id: int) -> HttpResponse:
    job = job_access(request.user, job_id)
    template = "ledger/_job.html" if request.headers.get("HX-Request") else "ledger/job.html"
    percent = None
    if job.total:
        percent = min(100, round(100 * job.progress / job.total))
    kind = importers.import_label(str(job.params.get("kind", "")))
    return render(
        request, template, {"job": job, "kind": kind, "percent": percent, "result": job.result}
    )


@login_required
def job_errors(request: HttpRequest, job_id: int) -> HttpResponse:
    job = job_get_for(request.user, job_id)
    data = exports.load(job.result.get("error_file", "")) if job else None
    if job is None or data is None:
        raise NotFound()
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = _("Rejected rows %(kind)s.xlsx") % {
        "kind": importers.import_label(job.params.get("kind", ""))
    }
    response["Content-Disposition"] = content_disposition_header(True, name) or ""
    return response


@login_required
def template(request: HttpRequest, kind: str) -> HttpResponse:
    selectors.people_visible(actor=scope_for(request.user))
    if kind not in importers.IMPORTERS:
        raise NotFound()
    response = HttpResponse(
        importers.template(kind),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        content_disposition_header(True, importers.template_filename(kind)) or ""
    )
    return response
