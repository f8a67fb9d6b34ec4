"""Linkage reads, each taking the actor and applying the scope: sources and batches (the
district, `linkage.manage`), the review queue and its pairs (their grids, `linkage.review`),
and a record's provenance (the record's grid, `ledger.view`). Values are masked here: a page
never receives an ID number or a phone in full."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from django.db.models import Count, Q, QuerySet

from wangge.core.personal import mask_id_number, mask_phone
from wangge.core.roles import Perm
from wangge.core.scope import access, as_scope, require_any
from wangge.ledger.models import Estate, Organisation, Person
from wangge.linkage.engine.address import KnownPlaces, parse_address
from wangge.linkage.models import (
    Batch,
    BatchRow,
    FieldValue,
    Pair,
    PairKind,
    PairStatus,
    RecordKind,
    RowStatus,
    Source,
)
from wangge.regions.models import Level, Region

GENDER_WORDS = {"male": "男", "female": "女"}
PEOPLE_SHOWN = ("name", "gender", "birth_date", "id_number", "phone", "address")
ORGANISATIONS_SHOWN = ("name", "credit_code", "legal_representative", "phone", "address")


def linkage_abilities(*, actor: Any) -> dict[str, bool]:
    scope = require_any(actor, Perm.LINKAGE_MANAGE, Perm.LINKAGE_REVIEW)
    return {
        "manage": scope.has(Perm.LINKAGE_MANAGE),
        "review": scope.has(Perm.LINKAGE_REVIEW),
    }


def source_list(*, actor: Any) -> QuerySet[Source]:
    scope = require_any(actor, Perm.LINKAGE_MANAGE)
    return (
        Source.objects.visible_to(scope, Perm.LINKAGE_MANAGE)
        .annotate(batch_count=Count("batches"))
        .order_by("name", "id")
    )


def source_get(*, actor: Any, code: str) -> Source:
    return access(
        Source.objects, require_any(actor, Perm.LINKAGE_MANAGE), Perm.LINKAGE_MANAGE, code=code
    )


def batch_list(*, actor: Any, source_code: str = "") -> QuerySet[Batch]:
    scope = require_any(actor, Perm.LINKAGE_MANAGE)
    qs = Batch.objects.visible_to(scope, Perm.LINKAGE_MANAGE).select_related("source")
    if source_code:
        qs = qs.filter(source__code=source_code)
    return qs.order_by("-created_at", "-id")


def batch_get(*, actor: Any, batch_id: int) -> Batch:
    return access(
        Batch.objects.select_related("source"),
        require_any(actor, Perm.LINKAGE_MANAGE),
        Perm.LINKAGE_MANAGE,
        pk=batch_id,
    )


def masked(kind: str, values: dict[str, Any]) -> dict[str, str]:
    """What a page may show of a row's or record's values: the ID number to its region and the
    birth year (never the date beside it), the phone's first three and last four digits."""
    out: dict[str, str] = {}
    for key, value in values.items():
        text = "" if value is None else str(value)
        if not text:
            out[key] = ""
        elif key == "id_number":
            out[key] = mask_id_number(text)
        elif key == "phone":
            digits = "".join(c for c in text if c.isdigit())
            # A mobile shows its first three and last four; anything shorter (a landline, a
            # mistyped number) its last four alone, or it would show nearly all of it.
            out[key] = mask_phone(text) if len(digits) == 11 else "****" + digits[-4:]
        elif key == "birth_date":
            out[key] = text[:4] if text[:4].isdigit() else ""
        else:
            out[key] = text
    return out


def batch_rows(
    *, actor: Any, batch_id: int, status: str = "", after: int = 0, limit: int = 100
) -> tuple[Batch, list[dict[str, Any]]]:
    """A batch's rows (keyset by row number), masked, with status and link."""
    batch = batch_get(actor=actor, batch_id=batch_id)
    qs = BatchRow.objects.dangerously_unscoped().filter(batch=batch, row__gt=after)
    if status in RowStatus.values:
        qs = qs.filter(status=status)
    shown = PEOPLE_SHOWN if batch.source.kind == RecordKind.PEOPLE else ORGANISATIONS_SHOWN
    out = []
    for row in qs.order_by("row")[: max(1, min(limit, 500))]:
        values = json.loads(row.values or "{}")
        out.append(
            {
                "row": row.row,
                "status": row.status,
                "method": row.method,
                "record_id": row.record_id,
                "probability": row.probability,
                "errors": row.errors,
                "grid_code": row.grid_code,
                "values": masked(batch.source.kind, {k: values.get(k, "") for k in shown}),
            }
        )
    return batch, out


def pair_queue(
    *, actor: Any, status: str = PairStatus.OPEN, kind: str = "", grid: str = ""
) -> QuerySet[Pair]:
    """The pairs in the actor's grids, most likely first."""
    scope = require_any(actor, Perm.LINKAGE_REVIEW)
    qs = Pair.objects.visible_to(scope, Perm.LINKAGE_REVIEW).select_related(
        "batch_row__batch__source"
    )
    if status == "decided":
        qs = qs.filter(status__in=[PairStatus.ACCEPTED, PairStatus.REJECTED])
    elif status in PairStatus.values:
        qs = qs.filter(status=status)
    if kind in PairKind.values:
        qs = qs.filter(kind=kind)
    if grid:
        qs = qs.filter(grid_code__startswith=grid)
    return qs.order_by("-probability", "id")


def _record_values(kind: str, records: list[Any]) -> dict[int, dict[str, Any]]:
    """The fields a pair compares, of records the caller has already fetched in scope."""
    if kind == RecordKind.PEOPLE:
        return {
            p.pk: {
                "name": p.name,
                "gender": GENDER_WORDS.get(p.gender, p.gender),
                "birth_date": p.birth_date.isoformat() if p.birth_date else "",
                "id_number": p.id_number,
                "phone": p.phone,
                "address": p.current_address or p.registered_address,
                "grid_code": p.grid_code,
                "retired": bool(p.retired_on),
            }
            for p in records
        }
    return {
        o.pk: {
            "name": o.name,
            "credit_code": o.credit_code,
            "legal_representative": o.legal_representative,
            "phone": o.phone,
            "address": o.address,
            "grid_code": o.grid_code,
            "retired": bool(o.retired_on),
        }
        for o in records
    }


def known_places(region_code: str) -> KnownPlaces:
    """The district's street, community and estate names, for the address parser."""
    regions = Region.objects.dangerously_unscoped().filter(
        code__startswith=region_code, valid_to=None
    )
    return KnownPlaces(
        streets=sorted(set(regions.filter(level=Level.STREET).values_list("name", flat=True))),
        communities=sorted(
            set(regions.filter(level=Level.COMMUNITY).values_list("name", flat=True))
        ),
        estates=sorted(
            set(
                Estate.objects.dangerously_unscoped()
                .filter(code__startswith=region_code, retired_on__isnull=True)
                .values_list("name", flat=True)
            )
        ),
    )


ADDRESS_PARTS = (
    "province",
    "city",
    "district",
    "street",
    "community",
    "road",
    "number",
    "suffix",
    "estate",
    "building",
    "unit",
    "room",
)


def address_parse(text: str, region_code: str) -> list[dict[str, str]]:
    """The parts the parser found in a free-text address, in the standard address's order,
    each with how it was found (a known place name, or a suffix or pattern)."""
    if not text:
        return []
    parse = parse_address(text, known=known_places(region_code[:6]))
    return [
        {"part": key, "value": parse.parts[key], "rule": parse.rules.get(key, "")}
        for key in ADDRESS_PARTS
        if parse.parts.get(key)
    ]


def pair_detail(*, actor: Any, pair_id: int) -> dict[str, Any]:
    """One pair side by side, field by field, with the evidence (the level each comparison
    reached and its match weight, as in Splink's waterfall). The records are in the pair's
    grid, which the reviewer's grant covers."""
    scope = require_any(actor, Perm.LINKAGE_REVIEW)
    pair = access(
        Pair.objects.select_related("batch_row__batch__source"),
        scope,
        Perm.LINKAGE_REVIEW,
        pk=pair_id,
    )
    shown = PEOPLE_SHOWN if pair.record_kind == RecordKind.PEOPLE else ORGANISATIONS_SHOWN
    from wangge.linkage.services import pair_records

    # The records as they are now, through the ledger's scope (moved away since: not found).
    seen = pair_records(scope, pair)
    records = _record_values(pair.record_kind, seen)
    right = records.get(pair.record_id, {})
    if pair.kind == PairKind.BATCH and pair.batch_row is not None:
        left_values = json.loads(pair.batch_row.values or "{}")
        left_title = pair.batch_row.batch.source.name
    else:
        left_values = records.get(int(pair.left_id or 0), {})
        left_title = ""
    left_m = masked(pair.record_kind, {k: left_values.get(k, "") for k in shown})
    right_m = masked(pair.record_kind, {k: right.get(k, "") for k in shown})
    evidence = {e["field"]: e for e in pair.evidence}
    district = pair.grid_code[:6]
    parses = {
        "left": address_parse(str(left_values.get("address") or ""), district),
        "right": address_parse(str(right.get("address") or ""), district),
    }
    fields = []
    for key in shown:
        ev = evidence.get(key)
        fields.append(
            {
                "field": key,
                "left": left_m.get(key, ""),
                "right": right_m.get(key, ""),
                "level": ev["level"] if ev else "",
                "weight": ev["weight"] if ev else None,
            }
        )
    return {
        "pair": pair,
        "left_title": left_title,
        "left_id": pair.left_id,
        "right_grid": right.get("grid_code", ""),
        "left_grid": left_values.get("grid_code", "") if pair.kind == PairKind.DUPLICATE else "",
        "fields": fields,
        "extra": [e for e in pair.evidence if e["field"] not in shown],
        "total_weight": pair.weight,
        "address_parses": parses,
        "may_decide": pair.status in (PairStatus.OPEN, PairStatus.UNSURE),
        "people_seen": [r.pk for r in seen] if pair.record_kind == RecordKind.PEOPLE else [],
    }


def record_provenance(*, actor: Any, kind: str, record_id: int) -> dict[str, Any]:
    """Where each value of a ledger record came from: per field, every value the lists gave
    (masked where personal), with its list, batch and date, which one wins, and whether the
    lists disagree. The record must be visible to the actor."""
    scope = require_any(actor, Perm.LEDGER_VIEW)
    model: Any = Person if kind == RecordKind.PEOPLE else Organisation
    record = access(model.objects, scope, Perm.LEDGER_VIEW, pk=record_id)
    # What a list says of someone may itself be sensitive (a disease, a mental-health list):
    # the list's status values, and sensitive lists altogether, only with `ledger.sensitive`
    # over the record's grid — as the ledger's special groups.
    sensitive_ok = scope.holds(Perm.LEDGER_SENSITIVE, record.grid_code)
    values = (
        FieldValue.objects.dangerously_unscoped()
        .filter(record_kind=kind, record_id=record.pk)
        .select_related("source", "batch")
        .order_by("field", "-wins", "-observed_on", "-id")
    )
    if not sensitive_ok:
        values = values.exclude(field="status").exclude(source__sensitive=True)
    by_field: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for fv in values:
        by_field[fv.field].append(
            {
                "value": masked(kind, {fv.field: fv.value})[fv.field],
                "index": fv.value_index,
                "source": fv.source.name,
                "source_code": fv.source.code,
                "batch": fv.batch_id,
                "observed_on": fv.observed_on,
                "wins": fv.wins,
            }
        )
    fields = [
        {
            "field": name,
            "values": rows,
            "conflict": len({r["index"] for r in rows}) > 1,
        }
        for name, rows in by_field.items()
    ]
    links_qs = BatchRow.objects.dangerously_unscoped().filter(
        record_id=record.pk, batch__source__kind=kind, status=RowStatus.LINKED
    )
    if not sensitive_ok:
        links_qs = links_qs.exclude(batch__source__sensitive=True)
    links = list(
        links_qs.select_related("batch__source")
        .order_by("-batch__created_at", "row")
        .values(
            "batch_id", "row", "method", "probability", "batch__source__name", "batch__created_at"
        )[:200]
    )
    return {"record": record, "fields": fields, "links": links}


def threshold_report(*, actor: Any, source_code: str) -> list[dict[str, Any]]:
    """The decided pairs of a source as labels, per probability band: how many reviewers
    accepted and rejected — where the thresholds should sit."""
    source = source_get(actor=actor, code=source_code)
    bands = [
        (0.0, 0.5),
        (0.5, 0.7),
        (0.7, 0.8),
        (0.8, 0.9),
        (0.9, 0.95),
        (0.95, 0.99),
        (0.99, 1.01),
    ]
    qs = Pair.objects.dangerously_unscoped().filter(
        batch_row__batch__source=source,
        status__in=[PairStatus.ACCEPTED, PairStatus.REJECTED],
    )
    out = []
    for lo, hi in bands:
        band = qs.filter(probability__gte=lo, probability__lt=hi)
        counts = band.aggregate(
            accepted=Count("id", filter=Q(status=PairStatus.ACCEPTED)),
            rejected=Count("id", filter=Q(status=PairStatus.REJECTED)),
        )
        out.append({"from": lo, "to": min(hi, 1.0), **counts})
    return out


def provenance_link(actor: Any, kind: str, record: Any) -> tuple[str, str] | None:
    """The ledger page's link to where a person's or organisation's values came from, when
    some department list names the record (and the reader may see the record: the page's
    own check)."""
    from django.urls import reverse
    from django.utils.translation import gettext as _

    record_kind = {"person": RecordKind.PEOPLE, "organisation": RecordKind.ORGANISATIONS}.get(kind)
    if record_kind is None:
        return None
    values = FieldValue.objects.dangerously_unscoped().filter(
        record_kind=record_kind, record_id=record.pk
    )
    if not as_scope(actor).holds(Perm.LEDGER_SENSITIVE, record.grid_code):
        values = values.exclude(source__sensitive=True)
    n = values.values("source_id").distinct().count()
    if not n:
        return None
    return (
        _("Where the values came from (%(n)d department lists)") % {"n": n},
        reverse("linkage:provenance", args=[record_kind.value, record.pk]),
    )
