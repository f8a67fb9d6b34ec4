"""Pages of the linkage module: the department lists, an upload with its column mapping, a
batch's result, the review queue and one pair side by side, a record's provenance.

Adapters only: what a page offers comes from `selectors.linkage_abilities`; a NotFound from a
selector or service is the same 404 page for missing and out of scope. The file between the
upload and the confirmed mapping is kept encrypted (core.exports), never in the session."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from wangge.core import exports
from wangge.core.errors import NotFound, ValidationFailed, WanggeError
from wangge.core.jobs import job_get_for
from wangge.core.scope import Scope, scope_for
from wangge.core.tabular import check_upload, read_table, upload_bytes
from wangge.ledger import selectors as ledger_selectors
from wangge.ledger import services as ledger_services
from wangge.ledger.columns import CARE_LABELS
from wangge.linkage import jobs, mapping, selectors, services
from wangge.linkage.models import (
    BelowPolicy,
    LinkMethod,
    PairKind,
    PairStatus,
    RecordKind,
    RowStatus,
)

FIELD_LABELS = {
    "name": gettext_lazy("Name"),
    "gender": gettext_lazy("Gender"),
    "birth_date": gettext_lazy("Birth date"),
    "id_number": gettext_lazy("ID number"),
    "phone": gettext_lazy("Phone"),
    "address": gettext_lazy("Address"),
    "registered_address": gettext_lazy("Registered address"),
    "status": gettext_lazy("Status on the list"),
    "credit_code": gettext_lazy("Unified social credit code"),
    "legal_representative": gettext_lazy("Legal representative"),
}
# The engine's comparison levels (engine.model.LEVELS), in words a reviewer reads.
LEVEL_LABELS = {
    "exact": gettext_lazy("the same"),
    "pinyin": gettext_lazy("sounds the same (pinyin)"),
    "similar": gettext_lazy("similar"),
    "transposed": gettext_lazy("two digits swapped"),
    "year": gettext_lazy("same year only"),
    "month": gettext_lazy("same year and month"),
    "tail4": gettext_lazy("same last four digits"),
    "typo": gettext_lazy("one or two characters differ"),
    "surname": gettext_lazy("same surname only"),
    "reversed": gettext_lazy("given name's characters swapped"),
    "core": gettext_lazy("the same without 有限公司, 分店 and the like"),
    "house": gettext_lazy("same house number"),
    "building": gettext_lazy("same building"),
    "road": gettext_lazy("same road and number"),
    "community": gettext_lazy("same village/community"),
    "null": gettext_lazy("missing on one side"),
    "else": gettext_lazy("different"),
}


PART_LABELS = {
    "province": gettext_lazy("Province"),
    "city": gettext_lazy("City"),
    "district": gettext_lazy("District"),
    "street": gettext_lazy("Street (town)"),
    "community": gettext_lazy("Village/community"),
    "road": gettext_lazy("Road or lane"),
    "number": gettext_lazy("House number"),
    "suffix": gettext_lazy("Sub-number"),
    "estate": gettext_lazy("Estate"),
    "building": gettext_lazy("Building"),
    "unit": gettext_lazy("Unit"),
    "room": gettext_lazy("Room"),
}


def rule_label(rule: str) -> str:
    """How the parser found a part: a place name the district knows, or a word ending."""
    kind, _sep, what = rule.partition(":")
    if kind == "known":
        return str(gettext_lazy("a known place name"))
    if kind in {"suffix", "pattern"}:
        return str(gettext_lazy("by the ending %(word)s")) % {"word": what}
    return str(gettext_lazy("other"))


def level_label(level: str) -> str:
    return str(LEVEL_LABELS.get(level, LEVEL_LABELS.get(level.split("_")[0], level)))


def _actor(request: HttpRequest) -> Scope:
    return scope_for(request.user)


def _int(text: str) -> int:
    """A plain number from a form or query (not "²", which isdigit() accepts), else 0."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else 0


# -- the lists -------------------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    scope = _actor(request)
    abilities = selectors.linkage_abilities(actor=scope)
    context: dict[str, Any] = {"abilities": abilities}
    if abilities["manage"]:
        context["sources"] = list(selectors.source_list(actor=scope))
        context["batches"] = list(selectors.batch_list(actor=scope)[:20])
    if abilities["review"]:
        context["open_pairs"] = selectors.pair_queue(actor=scope).count()
    return render(request, "linkage/home.html", context)


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


@login_required
def source(request: HttpRequest, code: str) -> HttpResponse:
    """A list's settings (thresholds, what it is trusted for, what a row matching nobody
    becomes, the care group it gives), its uploads, and the reviewers' decisions per
    probability band: where the thresholds should sit."""
    scope = _actor(request)
    found = selectors.source_get(actor=scope, code=code)
    error = ""
    if request.method == "POST":
        try:
            services.source_save(
                actor=scope,
                code=found.code,
                kind=found.kind,
                name=request.POST.get("name", "").strip(),
                upper=_float(request.POST.get("upper", "")),
                lower=_float(request.POST.get("lower", "")),
                below=request.POST.get("below") or None,
                care_tag=request.POST.get("care_tag", found.care_tag),
                trusted=request.POST.getlist("trusted"),
                sensitive=request.POST.get("sensitive") == "1",
            )
        except WanggeError as exc:
            error = exc.message
        else:
            messages.success(request, _("Settings saved."))
            return redirect("linkage:source", found.code)
    return render(
        request,
        "linkage/source.html",
        {
            "source": found,
            "error": error,
            "bands": selectors.threshold_report(actor=scope, source_code=found.code),
            "batches": list(selectors.batch_list(actor=scope, source_code=found.code)[:50]),
            "fields": mapping.labels(found.kind),
            "care_tags": sorted(CARE_LABELS.items()),
            "policies": BelowPolicy.choices,
        },
        status=400 if error else 200,
    )


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    """Step 1: a file (and which list it is); step 2: the columns, suggested from its headers
    (or the list's remembered mapping), confirmed; then the batch is stored."""
    scope = _actor(request)
    abilities = selectors.linkage_abilities(actor=scope)
    if not abilities["manage"]:
        raise NotFound()
    sources = list(selectors.source_list(actor=scope))
    context: dict[str, Any] = {
        "sources": sources,
        "kinds": RecordKind.choices,
        "care_tags": sorted(CARE_LABELS.items()),
        "policies": BelowPolicy.choices,
        "form": request.POST,
    }
    if request.method == "POST" and request.POST.get("step") == "confirm":
        return _confirm(request, scope, context)
    if request.method == "POST":
        try:
            upload_file = request.FILES.get("file")
            if upload_file is None:
                raise ValidationFailed(_("Choose a file to upload."), code="no_file")
            data = upload_bytes(upload_file)
            check_upload(data, upload_file.name or "")
            table = read_table(data, upload_file.name or "")
            chosen = request.POST.get("source", "").strip()
            if chosen:
                # A list's next file: its settings stay as they are (the page for them is the
                # list's own); the new-list fields below are not for it.
                source = selectors.source_get(actor=scope, code=chosen)
            else:
                source = services.source_save(
                    actor=scope,
                    code=request.POST.get("code", "").strip(),
                    kind=request.POST.get("kind", RecordKind.PEOPLE),
                    name=request.POST.get("name", "").strip(),
                    department_code=request.POST.get("department", "").strip(),
                    care_tag=request.POST.get("care_tag", None),
                    below=request.POST.get("below") or None,
                    sensitive=request.POST.get("sensitive") == "1",
                )
            headers = [str(h or "").strip() for h in table.headers]
            services.refuse_headerless(headers)
            try:
                suggested = services.resolve_mapping(source, headers, None)
            except ValidationFailed:
                suggested = mapping.suggest(source.kind, headers)
        except WanggeError as exc:
            context["error"] = exc.message
            return render(request, "linkage/upload.html", context, status=400)
        context.update(
            {
                "step": "confirm",
                "source": source,
                "token": exports.store(data),
                "filename": upload_file.name,
                "headers": headers,
                "fields": [
                    {
                        "key": key,
                        "label": label,
                        "required": required,
                        "header": suggested.get(key, ""),
                    }
                    for key, label, required in mapping.labels(source.kind)
                ],
            }
        )
        return render(request, "linkage/upload.html", context)
    return render(request, "linkage/upload.html", context)


def _confirm(request: HttpRequest, scope: Scope, context: dict[str, Any]) -> HttpResponse:
    token = request.POST.get("token", "")
    data = exports.load(token)
    filename = request.POST.get("filename", "")[:200]
    try:
        if data is None:
            raise ValidationFailed(
                _("The uploaded file is no longer kept; upload it again."), code="upload_missing"
            )
        source = selectors.source_get(actor=scope, code=request.POST.get("source", ""))
        chosen = {
            key: request.POST.get(f"map_{key}", "")
            for key, _label, _req in mapping.labels(source.kind)
            if request.POST.get(f"map_{key}", "")
        }
        summary = services.batch_import(
            actor=scope,
            source_code=source.code,
            table=read_table(data, filename),
            filename=filename,
            mapping=chosen,
        )
    except WanggeError as exc:
        context["error"] = exc.message
        return render(request, "linkage/upload.html", context, status=400)
    # Stored as a batch: the kept file has served (a second press finds nothing to store).
    exports.discard(token)
    messages.success(
        request,
        _("Batch %(batch)d stored: %(rows)d rows, %(accepted)d kept, %(rejected)d rejected.")
        % summary.as_dict(),
    )
    return redirect("linkage:batch", summary.batch.pk)


@login_required
def batch(request: HttpRequest, batch_id: int) -> HttpResponse:
    scope = _actor(request)
    status = request.GET.get("status", "")
    after = _int(request.GET.get("after", ""))
    found, rows = selectors.batch_rows(actor=scope, batch_id=batch_id, status=status, after=after)
    job = None
    if _int(request.GET.get("job", "")):
        job = job_get_for(request.user, _int(request.GET["job"]))
    labels = dict(RowStatus.choices)
    methods = dict(LinkMethod.choices)
    for row in rows:
        row["status_label"] = labels.get(row["status"], row["status"])
        row["method_label"] = methods.get(row["method"], "")
    return render(
        request,
        "linkage/batch.html",
        {
            "batch": found,
            "rows": rows,
            "status": status,
            "statuses": RowStatus.choices,
            "counts": found.counts,
            "next_after": rows[-1]["row"] if len(rows) == 100 else None,
            "fields": [
                (k, FIELD_LABELS.get(k, k))
                for k in (
                    selectors.PEOPLE_SHOWN
                    if found.source.kind == RecordKind.PEOPLE
                    else selectors.ORGANISATIONS_SHOWN
                )
            ],
            "job": job,
            "is_people": found.source.kind == RecordKind.PEOPLE,
        },
    )


@login_required
@require_POST
def batch_run(request: HttpRequest, batch_id: int) -> HttpResponse:
    job = jobs.queue_run(user=request.user, batch_id=batch_id)
    messages.success(request, _("Linking is queued; this page shows the result when it is done."))
    return redirect(reverse("linkage:batch", args=[batch_id]) + f"?job={job.pk}")


# -- review ----------------------------------------------------------------------------------


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    scope = _actor(request)
    status = request.GET.get("status", PairStatus.OPEN)
    kind = request.GET.get("kind", "")
    pairs = selectors.pair_queue(actor=scope, status=status, kind=kind)
    total = pairs.count()
    page = list(pairs[:100])
    return render(
        request,
        "linkage/queue.html",
        {
            "pairs": page,
            "total": total,
            "status": status,
            "kind": kind,
            "statuses": [*PairStatus.choices],
            "kinds": PairKind.choices,
        },
    )


@login_required
def pair(request: HttpRequest, pair_id: int) -> HttpResponse:
    scope = _actor(request)
    if request.method == "POST":
        try:
            services.pair_decide(
                actor=scope,
                pair_id=pair_id,
                decision=request.POST.get("decision", ""),
                note=request.POST.get("note", ""),
                survivor_id=_int(request.POST.get("survivor", "")) or None,
            )
        except NotFound:
            raise
        except WanggeError as exc:  # a decided pair, a bad decision: said on the page
            messages.error(request, exc.message)
            return redirect("linkage:pair", pair_id)
        messages.success(request, _("Decision saved."))
        nxt = selectors.pair_queue(actor=scope).exclude(pk=pair_id).first()
        return redirect("linkage:pair", nxt.pk) if nxt else redirect("linkage:queue")
    detail = selectors.pair_detail(actor=scope, pair_id=pair_id)
    for pk in detail["people_seen"]:
        # A look at a person, as on the ledger's page (PIPL: who saw whose data).
        ledger_services.person_viewed(
            actor=scope,
            person=ledger_selectors.person_get(actor=scope, person_id=pk),
            via="linkage",
        )
    for f in detail["fields"]:
        f["label"] = FIELD_LABELS.get(f["field"], f["field"])
        f["level_label"] = level_label(f["level"]) if f["level"] else ""
    for e in detail["extra"]:
        e["label"] = FIELD_LABELS.get(e["field"], e["field"])
        e["level_label"] = level_label(e["level"])
    for side in detail["address_parses"].values():
        for part in side:
            part["label"] = str(PART_LABELS.get(part["part"], part["part"]))
            part["how"] = rule_label(part["rule"])
    detail["status_label"] = dict(PairStatus.choices).get(detail["pair"].status, "")
    detail["is_people"] = detail["pair"].record_kind == RecordKind.PEOPLE
    return render(request, "linkage/pair.html", detail)


@login_required
def provenance(request: HttpRequest, kind: str, record_id: int) -> HttpResponse:
    if kind not in RecordKind.values:
        raise NotFound()
    scope = _actor(request)
    detail = selectors.record_provenance(actor=scope, kind=kind, record_id=record_id)
    if kind == RecordKind.PEOPLE:
        ledger_services.person_viewed(actor=scope, person=detail["record"], via="linkage")
    methods = dict(LinkMethod.choices)
    for f in detail["fields"]:
        f["label"] = FIELD_LABELS.get(f["field"], f["field"])
    for link in detail["links"]:
        link["method_label"] = methods.get(link["method"], "")
    detail["kind"] = kind
    return render(request, "linkage/provenance.html", detail)


urlpatterns = [
    path("", home, name="home"),
    path("upload/", upload, name="upload"),
    path("sources/<slug:code>/", source, name="source"),
    path("batches/<int:batch_id>/", batch, name="batch"),
    path("batches/<int:batch_id>/run/", batch_run, name="batch_run"),
    path("review/", queue, name="queue"),
    path("pairs/<int:pair_id>/", pair, name="pair"),
    path("<str:kind>/<int:record_id>/", provenance, name="provenance"),
]
