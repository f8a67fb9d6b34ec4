"""Linkage writes: sources, uploads, the linking run, review decisions, duplicate search.

Every function takes the actor, checks its own rule against the grant that covers the object
(a source's or batch's district with `linkage.manage`; a pair's grid with `linkage.review`),
runs in a transaction and writes its audit entry. Plaintext personal values exist only in
memory, inside `batch_run` and `duplicates_find`; what is stored is encrypted or a blind index.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wangge.core.audit import audit_record
from wangge.core.crypto import blind_index
from wangge.core.errors import Conflict, NotFound, ValidationFailed, WanggeError
from wangge.core.roles import Perm
from wangge.core.scope import Scope, access, require_any
from wangge.core.tabular import Table
from wangge.core.tabular.parse import cell_text
from wangge.core.validators import InvalidCode, parse_id_number
from wangge.ledger import services as ledger
from wangge.ledger.columns import CARE_LABELS
from wangge.ledger.importers import person_id_index
from wangge.ledger.importers.common import chunks
from wangge.ledger.models import CareTag, Organisation, Person
from wangge.linkage import mapping as column_mapping
from wangge.linkage.engine import model as engine
from wangge.linkage.engine import normalise
from wangge.linkage.models import (
    Batch,
    BatchRow,
    BatchStatus,
    BelowPolicy,
    FieldValue,
    LinkMethod,
    Pair,
    PairKind,
    PairStatus,
    RecordKind,
    RowStatus,
    Source,
)
from wangge.linkage.selectors import known_places
from wangge.regions.models import Level, Region, common_region

VALUE_CONTEXT = "linkage.value"
# Lists, batches and the ledger's duplicates are not any one department's: a grant narrowed to
# a department never acts on them (the value `ScopedModel.scope_department` gives such rows).
NO_DEPARTMENT = "\x00"
CODE_RE = re.compile(r"[A-Za-z0-9_-]{1,40}")
# More rows than this sharing an ID number's region and birth date in one file is someone
# trying numbers (the sequence and check digit are all that is hidden), not a department's list.
ENUMERATION_LIMIT = 20
ID_FLAW = gettext_lazy(
    "The ID number is not a valid one (its check digit or birth date): not linked by it; "
    "name, birth date, phone and address still count."
)
CHUNK = 2000


# -- sources ---------------------------------------------------------------------------------


def _district_for(scope: Scope, region_code: str) -> str:
    """The district a new source belongs to: the one given, or the actor's only one."""
    if region_code:
        code = region_code[:6]
        if not Region.objects.dangerously_unscoped().filter(
            code=code, level=Level.DISTRICT
        ).exists() or not scope.holds(Perm.LINKAGE_MANAGE, code, NO_DEPARTMENT):
            raise NotFound()
        return code
    districts = [
        c
        for c in Region.objects.dangerously_unscoped()
        .filter(level=Level.DISTRICT, valid_to=None)
        .order_by("code")
        .values_list("code", flat=True)
        if scope.holds(Perm.LINKAGE_MANAGE, c, NO_DEPARTMENT)
    ]
    if not districts:
        raise NotFound()
    if len(districts) != 1:
        raise ValidationFailed(
            _("Name the district the list belongs to (--district)."), code="district_needed"
        )
    return districts[0]


def _check_thresholds(upper: float, lower: float) -> None:
    if not (0.0 < lower <= upper <= 1.0):
        raise ValidationFailed(
            _("The thresholds must satisfy 0 < review ≤ link ≤ 1."), code="bad_thresholds"
        )


@transaction.atomic
def source_save(
    *,
    actor: Any,
    code: str,
    kind: str,
    name: str = "",
    department_code: str = "",
    region_code: str = "",
    upper: float | None = None,
    lower: float | None = None,
    below: str | None = None,
    care_tag: str | None = None,
    trusted: list[str] | None = None,
    mapping: dict[str, str] | None = None,
    sensitive: bool | None = None,
) -> Source:
    """Create a source or change its settings. A source's kind never changes (its batches and
    links are of that kind)."""
    scope = require_any(actor, Perm.LINKAGE_MANAGE)
    code = (code or "").strip()
    if not CODE_RE.fullmatch(code):
        raise ValidationFailed(
            _("A list's code is 1–40 letters, digits, - or _."), code="bad_source_code"
        )
    if kind not in RecordKind.values:
        raise ValidationFailed(_("Unknown record kind %(kind)s.") % {"kind": kind})
    source = Source.objects.dangerously_unscoped().filter(code=code).first()
    created = source is None
    if source is None:
        source = Source(code=code, kind=kind, region_code=_district_for(scope, region_code))
        source.name = name or code
    else:
        if not scope.holds_for(Perm.LINKAGE_MANAGE, source):
            raise NotFound()
        if kind != source.kind:
            raise Conflict(
                _("The list %(code)s holds %(kind)s; it cannot take another kind of record.")
                % {"code": code, "kind": RecordKind(source.kind).label},
                code="kind_mismatch",
            )
        if name:
            source.name = name
    if department_code:
        source.department_code = department_code
    if upper is not None:
        source.upper = float(upper)
    if lower is not None:
        source.lower = float(lower)
    _check_thresholds(source.upper, source.lower)
    if below is not None:
        if below not in BelowPolicy.values:
            raise ValidationFailed(_("Unknown policy %(p)s.") % {"p": below})
        source.below = below
    if care_tag is not None:
        if care_tag and care_tag not in CareTag.values:
            raise ValidationFailed(_("Unknown care group %(tag)s.") % {"tag": care_tag})
        source.care_tag = care_tag
    trust_changed = False
    if trusted is not None:
        known = {f.key for f in column_mapping.FIELDS[source.kind]}
        chosen = [f for f in trusted if f in known]
        trust_changed = chosen != list(source.trusted or [])
        source.trusted = chosen
    if sensitive is not None:
        source.sensitive = bool(sensitive)
    if mapping is not None:
        source.mapping = column_mapping.check(source.kind, mapping, list(mapping.values()))
    if created:
        source.save(force_insert=True)
    else:
        source.save(
            update_fields=[
                "name",
                "department_code",
                "upper",
                "lower",
                "below",
                "care_tag",
                "trusted",
                "mapping",
                "sensitive",
                "updated_at",
            ]
        )
        if trust_changed:
            # The preferred values follow the new trust at once, not at the next upload.
            recompute_wins(
                source.kind,
                sorted(
                    set(
                        FieldValue.objects.dangerously_unscoped()
                        .filter(source=source)
                        .values_list("record_id", flat=True)
                    )
                ),
            )
    audit_record(
        actor=scope,
        action="linkage.source_create" if created else "linkage.source_update",
        object_type="linkage_source",
        object_id=source.pk,
        details={"code": source.code, "kind": source.kind},
    )
    return source


# -- uploads ---------------------------------------------------------------------------------


@dataclass
class ImportSummary:
    batch: Batch
    rows: int = 0
    pending: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)  # kept rows with a flaw

    def as_dict(self) -> dict[str, Any]:
        return {
            "batch": self.batch.pk,
            "source": self.batch.source.code,
            "rows": self.rows,
            "accepted": self.pending,
            "rejected": self.rejected,
            "mapping": self.batch.mapping,
            "errors": self.errors[:200],
            "warnings": self.warnings[:200],
        }


PERSONAL_CELL = re.compile(r"^\s*(\d{15}|\d{17}[\dXx]|1\d{10})\s*$")


def refuse_headerless(headers: list[str]) -> None:
    """A first row holding an ID number or a phone is data, not headers: refused without
    echoing it (it would reach the page, the error and the stored mapping in plaintext)."""
    if any(PERSONAL_CELL.match(h) for h in headers):
        raise ValidationFailed(
            _(
                "The file's first row holds data, not column headers: add a row of headers "
                "(姓名, 身份证号 …) above the data and upload it again."
            ),
            code="no_header_row",
        )


def resolve_mapping(source: Source, headers: list[str], given: dict[str, str] | None) -> dict:
    """The mapping for a file: the one given (confirmed now), the source's remembered one when
    the file has its headers, or one suggested from the headers."""
    if given:
        return column_mapping.check(source.kind, given, headers)
    if source.mapping and all(h in headers for h in source.mapping.values()):
        return dict(source.mapping)
    return column_mapping.check(source.kind, column_mapping.suggest(source.kind, headers), headers)


def _people_row(values: dict[str, str]) -> tuple[dict[str, str], list[dict[str, str]], str]:
    """Normalised values, problems, and the ID number's blind index (when the number is
    valid)."""
    out: dict[str, str] = {}
    errors: list[dict[str, str]] = []
    name = normalise.name(values.get("name", ""))
    if not name:
        errors.append({"column": "name", "message": _("The name is empty.")})
    out["name"] = name
    index = ""
    raw_id = values.get("id_number", "")
    if raw_id:
        number = normalise.id_number(raw_id) or ""
        out["id_number"] = number
        try:
            parse_id_number(number)
            index = person_id_index(number)
        except InvalidCode:
            out["id_number_invalid"] = "1"
    for key in ("gender", "birth_date", "phone"):
        raw = values.get(key, "")
        if raw:
            fn: Callable[[str], str | None] = getattr(normalise, key)
            out[key] = fn(raw) or ""
    for key in ("address", "registered_address", "status"):
        if values.get(key):
            out[key] = values[key].strip()
    return out, errors, index


def _organisation_row(values: dict[str, str]) -> tuple[dict[str, str], list[dict[str, str]], str]:
    out: dict[str, str] = {}
    errors: list[dict[str, str]] = []
    name = normalise.name(values.get("name", ""))
    if not name:
        errors.append({"column": "name", "message": _("The name is empty.")})
    out["name"] = name
    code = normalise.credit_code(values.get("credit_code", "")) or ""
    if code:
        out["credit_code"] = code
    for key in ("legal_representative",):
        if values.get(key):
            out[key] = normalise.name(values[key])
    if values.get("phone"):
        out["phone"] = normalise.phone(values["phone"]) or ""
    for key in ("address", "status"):
        if values.get(key):
            out[key] = values[key].strip()
    return out, errors, ""


def batch_import(
    *,
    actor: Any,
    source_code: str,
    table: Table,
    filename: str,
    mapping: dict[str, str] | None = None,
) -> ImportSummary:
    """Store a department's file as a batch: every row accounted for — kept (to be linked) or
    rejected with its row, column and reason. The mapping used is remembered by the source."""
    scope = require_any(actor, Perm.LINKAGE_MANAGE)
    source = access(Source.objects, scope, Perm.LINKAGE_MANAGE, code=source_code)
    headers = [str(h or "").strip() for h in table.headers]
    refuse_headerless(headers)
    used = resolve_mapping(source, headers, mapping)
    columns = {key: headers.index(header) for key, header in used.items()}
    prepare = _people_row if source.kind == RecordKind.PEOPLE else _organisation_row
    with transaction.atomic():
        batch = Batch.objects.create(
            source=source,
            region_code=source.region_code,
            filename=filename[:200],
            mapping=used,
            created_by_name=scope.username,
            created_by_id=scope.user_id,
            created_at=timezone.now(),
        )
        summary = ImportSummary(batch=batch)
        pending: list[BatchRow] = []
        # Kept rows by their valid ID number's region and birth date (the enumeration guard).
        born: dict[str, list[int]] = defaultdict(list)
        labels = {f.key: str(f.label) for f in column_mapping.FIELDS[source.kind]}
        for number, cells in table.rows:
            raw = {key: cell_text(cells[i]) if i < len(cells) else "" for key, i in columns.items()}
            values, errors, index = prepare(raw)
            summary.rows += 1
            row = BatchRow(
                batch=batch,
                row=number,
                values=json.dumps(values, ensure_ascii=False),
                id_index=index,
                grid_code=source.region_code,
            )
            if errors:
                row.status = RowStatus.REJECTED
                row.errors = [
                    {
                        **e,
                        "field": e["column"],
                        "column": used.get(e["column"], labels.get(e["column"], "")),
                    }
                    for e in errors
                ]
                summary.rejected += 1
                for e in row.errors:
                    summary.errors.append({"row": number, **e})
            else:
                summary.pending += 1
                if values.get("id_number_invalid"):
                    # Kept, and said: the number cannot be linked exactly, the rest still can.
                    flaw = {
                        "field": "id_number",
                        "column": used.get("id_number", ""),
                        "message": str(ID_FLAW),
                    }
                    row.errors = [flaw]
                    summary.warnings.append({"row": number, **flaw})
                if index:
                    born[values["id_number"][:14]].append(number)
            pending.append(row)
            if len(pending) >= CHUNK:
                BatchRow.objects.bulk_create(pending)
                pending = []
        BatchRow.objects.bulk_create(pending)
        summary.rejected += _refuse_enumeration(scope, batch, summary, born)
        summary.pending = summary.rows - summary.rejected
        batch.rows = summary.rows
        batch.counts = {"rows": summary.rows, "rejected": summary.rejected}
        batch.save(update_fields=["rows", "counts"])
        if source.mapping != used:
            source.mapping = used
            source.save(update_fields=["mapping", "updated_at"])
        audit_record(
            actor=scope,
            action="linkage.import",
            object_type="linkage_batch",
            object_id=batch.pk,
            details={
                "source": source.code,
                "rows": summary.rows,
                "rejected": summary.rejected,
                "file": batch.filename,
            },
        )
    return summary


def _refuse_enumeration(
    scope: Scope, batch: Batch, summary: ImportSummary, born: dict[str, list[int]]
) -> int:
    """Rows whose ID numbers share their region and birth date with more than
    ENUMERATION_LIMIT others of the file are rejected: linked exactly, they would tell the
    uploader which of the numbers tried is someone's (the ledger limits exact lookups).
    `born`: the kept rows' numbers by the first 14 characters of their valid ID number."""
    refused = sorted(n for rows in born.values() if len(rows) > ENUMERATION_LIMIT for n in rows)
    if not refused:
        return 0
    message = str(
        _(
            "More than %(n)d rows share this ID number's region and birth date: the file looks "
            "like numbers being tried, not a department's list. Not linked."
        )
    ) % {"n": ENUMERATION_LIMIT}
    error = {"field": "id_number", "column": batch.mapping.get("id_number", ""), "message": message}
    for part in chunks(refused):
        BatchRow.objects.dangerously_unscoped().filter(batch=batch, row__in=part).update(
            status=RowStatus.REJECTED, errors=[error]
        )
    summary.errors.extend({"row": n, **error} for n in refused)
    audit_record(
        actor=scope,
        action="linkage.enumeration",
        object_type="linkage_batch",
        object_id=batch.pk,
        outcome="denied",
        details={"rows": len(refused), "source": batch.source.code},
    )
    return len(refused)


# -- the linking run -------------------------------------------------------------------------


RUN_KEYS = ("rows", "linked_exact", "linked_probable", "review", "new", "rejected")


def batch_counts(batch: Batch) -> dict[str, int]:
    by = Counter(
        (s, m)
        for s, m in BatchRow.objects.dangerously_unscoped()
        .filter(batch=batch)
        .values_list("status", "method")
    )
    linked = {m: n for (s, m), n in by.items() if s == RowStatus.LINKED}
    return {
        "rows": batch.rows,
        "linked_exact": linked.get(LinkMethod.EXACT, 0),
        "linked_probable": sum(n for m, n in linked.items() if m != LinkMethod.EXACT),
        "review": sum(n for (s, _m), n in by.items() if s == RowStatus.REVIEW),
        "new": sum(n for (s, _m), n in by.items() if s == RowStatus.NEW),
        "rejected": sum(n for (s, _m), n in by.items() if s == RowStatus.REJECTED),
    }


def _canonical_people(scope: Scope, region_code: str) -> tuple[list[dict[str, Any]], dict]:
    """The district's current people, decrypted in memory, and their grids."""
    rows = []
    grids: dict[int, str] = {}
    qs = (
        Person.objects.visible_to(scope, Perm.LEDGER_VIEW)
        .filter(grid_code__startswith=region_code, retired_on__isnull=True)
        .order_by("pk")
        .values_list(
            "pk",
            "name",
            "gender",
            "birth_date",
            "id_number",
            "phone",
            "current_address",
            "registered_address",
            "grid_code",
        )
    )
    for pk, name, gender, birth, number, phone, current, registered, grid in qs.iterator(
        chunk_size=5000
    ):
        rows.append(
            {
                "unique_id": str(pk),
                "name": name,
                "gender": gender or None,
                "birth_date": birth.isoformat() if birth else None,
                "id_number": number or None,
                "phone": phone or None,
                "address": current or registered or None,
            }
        )
        grids[pk] = grid
    return rows, grids


def _canonical_organisations(scope: Scope, region_code: str) -> tuple[list[dict], dict]:
    rows = []
    grids: dict[int, str] = {}
    qs = (
        Organisation.objects.visible_to(scope, Perm.LEDGER_VIEW)
        .filter(grid_code__startswith=region_code, retired_on__isnull=True)
        .order_by("pk")
        .values_list(
            "pk", "name", "credit_code", "legal_representative", "phone", "address", "grid_code"
        )
    )
    for pk, name, code, legal, phone, address, grid in qs.iterator(chunk_size=5000):
        rows.append(
            {
                "unique_id": str(pk),
                "name": name,
                "credit_code": code or None,
                "legal_representative": legal or None,
                "phone": phone or None,
                "address": address or None,
            }
        )
        grids[pk] = grid
    return rows, grids


def _engine_rows(kind: str, rows: Iterable[tuple[BatchRow, dict[str, str]]]) -> list[dict]:
    fields = engine.PEOPLE_FIELDS if kind == RecordKind.PEOPLE else engine.ORGANISATION_FIELDS
    out = []
    for row, values in rows:
        record = {f: (values.get(f) or None) for f in fields}
        record["unique_id"] = str(row.pk)
        out.append(record)
    return out


def _evidence(pair: engine.ScoredPair) -> list[dict[str, Any]]:
    return [
        {"field": e.field, "level": e.level, "weight": round(e.weight, 2)} for e in pair.evidence
    ]


@dataclass
class _Run:
    source: Source
    batch: Batch
    scope: Scope
    today: dt.date
    grids: dict[int, str]
    linked: list[tuple[BatchRow, dict[str, str]]] = field(default_factory=list)
    known: Any = None


def batch_run(*, actor: Any, batch_id: int, backend: str = "duckdb", spark: Any = None) -> dict:
    """Link a batch's pending rows: exact by the ID number's blind index (or the credit code),
    then the engine's probabilistic model for the rest; above the source's upper threshold the
    row is linked, between the two it waits in the review queue, below it is new (a new ledger
    record where it can be placed, by the source's policy). Re-running links only rows still
    pending. Returns the counts of the whole batch."""
    scope = require_any(actor, Perm.LINKAGE_MANAGE)
    batch = access(Batch.objects.select_related("source"), scope, Perm.LINKAGE_MANAGE, pk=batch_id)
    source = batch.source
    started = time.monotonic()
    # One run at a time per batch: the claim is a conditional UPDATE, so a second run (a job
    # queued twice, the CLI beside the page) is refused instead of linking every row twice.
    claimed = (
        Batch.objects.dangerously_unscoped()
        .filter(pk=batch.pk)
        .exclude(status=BatchStatus.RUNNING)
        .update(status=BatchStatus.RUNNING)
    )
    if not claimed:
        raise Conflict(_("This batch is being linked already."), code="running")
    try:
        return _batch_run(scope, batch, source, started, backend, spark)
    except BaseException:
        Batch.objects.dangerously_unscoped().filter(pk=batch.pk).update(status=batch.status)
        raise


def _batch_run(
    scope: Scope, batch: Batch, source: Source, started: float, backend: str, spark: Any
) -> dict[str, int]:
    rows = list(
        BatchRow.objects.dangerously_unscoped()
        .filter(batch=batch, status=RowStatus.PENDING)
        .order_by("row")
    )
    decoded = [(r, json.loads(r.values or "{}")) for r in rows]
    if source.kind == RecordKind.PEOPLE:
        canonical, grids = _canonical_people(scope, source.region_code)
    else:
        canonical, grids = _canonical_organisations(scope, source.region_code)
    run = _Run(source=source, batch=batch, scope=scope, today=timezone.localdate(), grids=grids)
    rest = _link_exact(run, decoded)
    probable: dict[int, list[engine.ScoredPair]] = defaultdict(list)
    if rest and canonical:
        known = run.known = known_places(source.region_code)
        if source.kind == RecordKind.PEOPLE:
            left = engine.people_table(_engine_rows(source.kind, rest), known=known)
            right = engine.people_table(canonical, known=known)
        else:
            left = engine.organisations_table(_engine_rows(source.kind, rest), known=known)
            right = engine.organisations_table(canonical, known=known)
        for pair in engine.link(
            left,
            right,
            kind=source.kind,
            backend=backend,
            spark=spark,
            min_probability=min(source.lower, 0.5),
        ):
            probable[int(pair.left_id)].append(pair)
    del canonical
    with transaction.atomic():
        _decide_rows(run, rest, probable)
        _record_links(run)
        batch.status = BatchStatus.LINKED
        batch.run_at = timezone.now()
        batch.run_seconds = round(time.monotonic() - started, 3)
        batch.counts = batch_counts(batch)
        batch.save(update_fields=["status", "run_at", "run_seconds", "counts"])
        audit_record(
            actor=scope,
            action="linkage.run",
            object_type="linkage_batch",
            object_id=batch.pk,
            details={"source": source.code, "backend": backend, **batch.counts},
        )
    return batch.counts


def _link_exact(
    run: _Run, decoded: list[tuple[BatchRow, dict[str, str]]]
) -> list[tuple[BatchRow, dict[str, str]]]:
    """Link rows whose ID number (blind index) or credit code is a current record of the
    district; the others are returned for the model."""
    if run.source.kind == RecordKind.PEOPLE:
        keys = [r.id_index for r, _v in decoded if r.id_index]
        found: dict[str, int] = {}
        for chunk in chunks(keys):
            found.update(
                Person.objects.visible_to(run.scope, Perm.LEDGER_VIEW)
                .filter(
                    id_index__in=chunk,
                    grid_code__startswith=run.source.region_code,
                    retired_on__isnull=True,
                )
                .values_list("id_index", "pk")
            )

        def key(r: BatchRow, v: dict[str, str]) -> str:
            return r.id_index

    else:
        codes = [v.get("credit_code", "") for _r, v in decoded if v.get("credit_code")]
        found = {}
        for chunk in chunks(codes):
            found.update(
                Organisation.objects.visible_to(run.scope, Perm.LEDGER_VIEW)
                .filter(
                    credit_code__in=chunk,
                    grid_code__startswith=run.source.region_code,
                    retired_on__isnull=True,
                )
                .values_list("credit_code", "pk")
            )

        def key(r: BatchRow, v: dict[str, str]) -> str:
            return v.get("credit_code", "")

    rest = []
    for row, values in decoded:
        record = found.get(key(row, values)) if key(row, values) else None
        if record is None:
            rest.append((row, values))
            continue
        row.status, row.method, row.record_id = RowStatus.LINKED, LinkMethod.EXACT, record
        row.probability = 1.0
        row.grid_code = run.grids.get(record, run.source.region_code)
        run.linked.append((row, values))
    return rest


def _decide_rows(
    run: _Run,
    rest: list[tuple[BatchRow, dict[str, str]]],
    probable: dict[int, list[engine.ScoredPair]],
) -> None:
    source = run.source
    now = timezone.now()
    pairs: list[Pair] = []
    new_rows: list[tuple[BatchRow, dict[str, str]]] = []
    for row, values in rest:
        candidates = sorted(probable.get(row.pk, []), key=lambda p: -p.probability)
        best = candidates[0] if candidates else None
        if best is not None and best.probability >= source.upper:
            row.status, row.method = RowStatus.LINKED, LinkMethod.PROBABLE
            row.record_id, row.probability = int(best.right_id), best.probability
            row.grid_code = run.grids.get(row.record_id, source.region_code)
            run.linked.append((row, values))
        elif best is not None and best.probability >= source.lower:
            row.status, row.probability = RowStatus.REVIEW, best.probability
            shortlist = [c for c in candidates[:3] if c.probability >= source.lower]
            # The row's candidates are weighed against each other by one reviewer: the one
            # whose grant covers all of them (two communities: their street), so no community
            # settles a row another community's resident may be.
            grids = [run.grids.get(int(c.right_id), source.region_code) for c in shortlist]
            row.grid_code = grids[0]
            for g in grids[1:]:
                row.grid_code = common_region([row.grid_code, g])
            for cand in shortlist:
                pairs.append(
                    Pair(
                        kind=PairKind.BATCH,
                        record_kind=source.kind,
                        batch_row=row,
                        record_id=int(cand.right_id),
                        probability=cand.probability,
                        weight=cand.weight,
                        evidence=_evidence(cand),
                        grid_code=row.grid_code,
                        created_at=now,
                    )
                )
        else:
            row.status = RowStatus.NEW
            row.probability = best.probability if best is not None else None
            new_rows.append((row, values))
    all_rows = [r for r, _v in rest] + [r for r, _v in run.linked if r.method == LinkMethod.EXACT]
    for chunk in chunks(all_rows, CHUNK):
        BatchRow.objects.dangerously_unscoped().bulk_update(
            chunk, ["status", "method", "record_id", "probability", "grid_code"]
        )
    Pair.objects.bulk_create(pairs, batch_size=CHUNK)
    if source.below == BelowPolicy.NEW:
        for row, values in new_rows:
            _create_record(run, row, values)


def place(*, actor: Any, region_code: str, address: str, known: Any = None) -> str:
    """The grid a free-text address lies in, through the standard-address ledger: the estate
    or the road and number the parser found, when the buildings matching it lie in one grid."""
    from wangge.ledger.selectors import address_search
    from wangge.linkage.engine.address import parse_address

    if not address:
        return ""
    parse = parse_address(address, known=known or known_places(region_code))
    parts = parse.parts
    for q in (
        " ".join(x for x in (parts.get("estate", ""), parts.get("building", "")) if x),
        parts.get("estate", ""),
        parts.get("road", "") + parts.get("number", ""),
    ):
        q = q.strip()
        if len(q) < 2:
            continue
        hits = [
            h
            for h in address_search(actor=actor, q=q, limit=50)
            if h["grid_code"].startswith(region_code)
        ]
        grids = {h["grid_code"] for h in hits}
        if len(grids) == 1:
            return grids.pop()
    return ""


def _create_record(run: _Run, row: BatchRow, values: dict[str, str]) -> None:
    """A row that matches nobody becomes a ledger record where its address places it; the
    ledger's own rules decide (a number registered elsewhere is referred, not created)."""
    if run.known is None:
        run.known = known_places(run.source.region_code)
    grid = place(
        actor=run.scope,
        region_code=run.source.region_code,
        address=values.get("address", ""),
        known=run.known,
    )
    if not grid:
        row.errors = [
            {
                "column": "",
                "message": str(
                    _("Matches nobody, and its address places it in no grid: register it by hand.")
                ),
            }
        ]
        row.save(update_fields=["errors"])
        return
    made: Any
    try:
        with transaction.atomic():
            if run.source.kind == RecordKind.PEOPLE:
                made = ledger.person_create(
                    actor=run.scope,
                    values={
                        "name": values.get("name", ""),
                        "gender": values.get("gender", ""),
                        "birth_date": values.get("birth_date", ""),
                        "id_number": ""
                        if values.get("id_number_invalid")
                        else values.get("id_number", ""),
                        "phone": values.get("phone", ""),
                        "current_address": values.get("address", ""),
                        "registered_address": values.get("registered_address", ""),
                        "care_tags": CARE_LABELS.get(run.source.care_tag, ""),
                    },
                    grid_code=grid,
                    confirm_new=True,
                    source="linkage",
                )
            else:
                made = ledger.organisation_create(
                    actor=run.scope,
                    values={
                        "name": values.get("name", ""),
                        "credit_code": values.get("credit_code", ""),
                        "legal_representative": values.get("legal_representative", ""),
                        "phone": values.get("phone", ""),
                        "address": values.get("address", ""),
                    },
                    grid_code=grid,
                )
    except WanggeError as exc:
        row.errors = [{"column": "", "message": exc.message}]
        row.save(update_fields=["errors"])
        return
    row.method, row.record_id, row.grid_code = LinkMethod.CREATED, made.pk, made.grid_code
    row.save(update_fields=["method", "record_id", "grid_code"])
    run.linked.append((row, values))


# -- provenance ------------------------------------------------------------------------------

PROVENANCE_FIELDS = {
    RecordKind.PEOPLE: (
        "name",
        "id_number",
        "gender",
        "birth_date",
        "phone",
        "address",
        "registered_address",
        "status",
    ),
    RecordKind.ORGANISATIONS: (
        "name",
        "credit_code",
        "legal_representative",
        "phone",
        "address",
        "status",
    ),
}


def value_index(field_name: str, value: str) -> str:
    return blind_index(f"{field_name}\x00{value}", context=VALUE_CONTEXT)


def _record_links(run: _Run) -> None:
    """What each linked row said, kept per field with its source and batch (encrypted), the
    winners recomputed, and the source's care tag given to the people it lists."""
    if not run.linked:
        return
    fields = PROVENANCE_FIELDS[RecordKind(run.source.kind)]
    values: list[FieldValue] = []
    for row, given in run.linked:
        if row.record_id is None:
            continue
        for name in fields:
            value = (given.get(name) or "").strip()
            if not value or (name == "id_number" and given.get("id_number_invalid")):
                continue
            values.append(
                FieldValue(
                    record_kind=run.source.kind,
                    record_id=row.record_id,
                    field=name,
                    value=value,
                    value_index=value_index(name, value),
                    source=run.source,
                    batch=run.batch,
                    observed_on=run.today,
                    grid_code=row.grid_code,
                )
            )
    FieldValue.objects.bulk_create(values, batch_size=CHUNK)
    record_ids = sorted({row.record_id for row, _v in run.linked if row.record_id})
    recompute_wins(run.source.kind, record_ids)
    if run.source.care_tag and run.source.kind == RecordKind.PEOPLE:
        ledger.care_tag_add(
            actor=run.scope,
            person_ids=[
                r.record_id
                for r, _v in run.linked
                if r.record_id and r.method != LinkMethod.CREATED
            ],
            tag=run.source.care_tag,
            reason=f"linkage:{run.source.code}",
        )


def recompute_wins(record_kind: str, record_ids: list[int]) -> None:
    """Per record and field, the value the trust policy prefers: from a source trusted for the
    field, else the newest; ties go to the later batch."""
    for chunk in chunks(record_ids):
        rows = list(
            FieldValue.objects.dangerously_unscoped()
            .filter(record_kind=record_kind, record_id__in=chunk)
            .select_related("source")
            .only("pk", "record_id", "field", "observed_on", "batch_id", "wins", "source__trusted")
        )
        best: dict[tuple[int, str], FieldValue] = {}
        for fv in rows:
            k = (fv.record_id, fv.field)
            rank = (fv.field in (fv.source.trusted or []), fv.observed_on, fv.batch_id, fv.pk)
            cur = best.get(k)
            if cur is None or rank > (
                cur.field in (cur.source.trusted or []),
                cur.observed_on,
                cur.batch_id,
                cur.pk,
            ):
                best[k] = fv
        winners = {fv.pk for fv in best.values()}
        changed = []
        for fv in rows:
            w = fv.pk in winners
            if fv.wins != w:
                fv.wins = w
                changed.append(fv)
        FieldValue.objects.dangerously_unscoped().bulk_update(changed, ["wins"], batch_size=CHUNK)


# -- review ----------------------------------------------------------------------------------


DECISIONS = {
    "accept": PairStatus.ACCEPTED,
    "reject": PairStatus.REJECTED,
    "unsure": PairStatus.UNSURE,
}


@transaction.atomic
def pair_decide(
    *, actor: Any, pair_id: int, decision: str, note: str = "", survivor_id: int | None = None
) -> Pair:
    """A reviewer's decision on a pair in their grids: accept (the row links to the record, or
    the two records are merged), reject, or not sure (it stays in the queue, marked). Each
    decision is kept as a label."""
    scope = require_any(actor, Perm.LINKAGE_REVIEW)
    if decision not in DECISIONS:
        raise ValidationFailed(_("Unknown decision %(d)s.") % {"d": decision}, code="bad_decision")
    pair = access(
        Pair.objects.select_for_update(of=("self",)).select_related(
            "batch_row", "batch_row__batch__source"
        ),
        scope,
        Perm.LINKAGE_REVIEW,
        pk=pair_id,
    )
    if pair.status not in (PairStatus.OPEN, PairStatus.UNSURE):
        raise Conflict(_("This pair has been decided already."), code="decided")
    # The records as they are now, through the ledger's own scope: a person moved out of the
    # reviewer's grids since the pair was made is not found, whatever the pair's grid says.
    records = pair_records(scope, pair)
    if decision == "accept" and any(r.retired_on for r in records):
        raise Conflict(
            _("The record has been retired or merged since: reject this pair instead."),
            code="record_retired",
        )
    pair.status = DECISIONS[decision]
    pair.note = (note or "")[:200]
    pair.decided_by_name = scope.username
    pair.decided_at = timezone.now()
    update = ["status", "note", "decided_by_name", "decided_at"]
    if pair.kind == PairKind.BATCH:
        _decide_batch_pair(scope, pair, records[0].grid_code)
    elif pair.status == PairStatus.ACCEPTED:
        left, right = sorted([int(pair.left_id or 0), pair.record_id])
        survivor: int = survivor_id if survivor_id in (left, right) and survivor_id else left
        merged = right if survivor == left else left
        made = ledger.merge_records(
            actor=scope,
            kind="person" if pair.record_kind == RecordKind.PEOPLE else "organisation",
            survivor_id=survivor,
            merged_id=merged,
            reason=note or _("Confirmed duplicate in review"),
        )
        pair.merge_id = made.pk
        update.append("merge_id")
    pair.save(update_fields=update)
    audit_record(
        actor=scope,
        action=f"linkage.pair_{decision}",
        object_type="linkage_pair",
        object_id=pair.pk,
        details={"kind": pair.kind, "probability": round(pair.probability, 4)},
    )
    return pair


def pair_records(scope: Scope, pair: Pair) -> list[Any]:
    """The ledger records a pair names, each as the reviewer may see it (NotFound otherwise)."""
    model: Any = Person if pair.record_kind == RecordKind.PEOPLE else Organisation
    ids = [pair.record_id] + ([int(pair.left_id)] if pair.left_id else [])
    return [access(model.objects, scope, Perm.LEDGER_VIEW, pk=pk) for pk in ids]


def _decide_batch_pair(scope: Scope, pair: Pair, record_grid: str) -> None:
    assert pair.batch_row is not None
    # Locked: two pairs of one row decided at once must not both link it.
    row = BatchRow.objects.dangerously_unscoped().select_for_update().get(pk=pair.batch_row.pk)
    pair.batch_row = row
    if row.status != RowStatus.REVIEW:
        raise Conflict(_("This row has been settled already."), code="decided")
    others = Pair.objects.dangerously_unscoped().filter(batch_row=row).exclude(pk=pair.pk)
    batch = row.batch
    if pair.status == PairStatus.ACCEPTED:
        row.status, row.method, row.record_id = (
            RowStatus.LINKED,
            LinkMethod.REVIEWED,
            pair.record_id,
        )
        row.probability, row.grid_code = pair.probability, record_grid
        row.save(update_fields=["status", "method", "record_id", "probability", "grid_code"])
        others.filter(status__in=[PairStatus.OPEN, PairStatus.UNSURE]).update(
            status=PairStatus.CLOSED
        )
        run = _Run(
            source=batch.source, batch=batch, scope=scope, today=timezone.localdate(), grids={}
        )
        run.linked.append((row, json.loads(row.values or "{}")))
        _record_links(run)
    elif (
        pair.status == PairStatus.REJECTED
        and not others.filter(status__in=[PairStatus.OPEN, PairStatus.UNSURE]).exists()
    ):
        row.status = RowStatus.NEW
        row.save(update_fields=["status"])
        if batch.source.below == BelowPolicy.NEW:
            new = _Run(
                source=batch.source, batch=batch, scope=scope, today=timezone.localdate(), grids={}
            )
            _create_record(new, row, json.loads(row.values or "{}"))
            _record_links(new)
    batch.counts = batch_counts(batch)
    batch.save(update_fields=["counts"])


# -- duplicates inside the ledger -------------------------------------------------------------


def duplicates_find(
    *, actor: Any, region_code: str, kind: str = RecordKind.PEOPLE, backend: str = "duckdb"
) -> dict[str, int]:
    """Suspected duplicates among a region's current people (or organisations) — two grids, a
    typo — put in the review queue (pairs already there, open or decided, are not added
    again)."""
    scope = require_any(actor, Perm.LINKAGE_REVIEW)
    if not region_code or not scope.holds(Perm.LINKAGE_REVIEW, region_code, NO_DEPARTMENT):
        raise NotFound()
    if kind == RecordKind.PEOPLE:
        records, grids = _canonical_people(scope, region_code)
        table = engine.people_table(records, known=known_places(region_code[:6]))
    elif kind == RecordKind.ORGANISATIONS:
        records, grids = _canonical_organisations(scope, region_code)
        table = engine.organisations_table(records, known=known_places(region_code[:6]))
    else:
        raise ValidationFailed(_("Unknown record kind %(kind)s.") % {"kind": kind})
    found = engine.dedupe(table, kind=kind, backend=backend, min_probability=0.5) if records else []
    existing = set(
        Pair.objects.dangerously_unscoped()
        .filter(kind=PairKind.DUPLICATE, record_kind=kind)
        .values_list("left_id", "record_id")
    )
    now = timezone.now()
    made = []
    for pair in found:
        a, b = sorted([int(pair.left_id), int(pair.right_id)])
        if (a, b) in existing:
            continue
        existing.add((a, b))
        made.append(
            Pair(
                kind=PairKind.DUPLICATE,
                record_kind=kind,
                left_id=a,
                record_id=b,
                probability=pair.probability,
                weight=pair.weight,
                evidence=_evidence(pair),
                grid_code=common_region([grids.get(a, region_code), grids.get(b, region_code)]),
                created_at=now,
            )
        )
    with transaction.atomic():
        Pair.objects.bulk_create(made, batch_size=CHUNK)
        audit_record(
            actor=scope,
            action="linkage.duplicates",
            object_type="region",
            object_id=region_code,
            details={"kind": kind, "records": len(records), "pairs": len(made)},
        )
    return {"records": len(records), "suspected": len(found), "queued": len(made)}


def rows_export(*, actor: Any, batch_id: int) -> tuple[Batch, list[tuple[int, str, Any, Any]]]:
    """One line per source row of a batch: row, status, record, probability (no values)."""
    scope = require_any(actor, Perm.LINKAGE_MANAGE)
    batch = access(Batch.objects.select_related("source"), scope, Perm.LINKAGE_MANAGE, pk=batch_id)
    lines = list(
        BatchRow.objects.dangerously_unscoped()
        .filter(batch=batch)
        .order_by("row")
        .values_list("row", "status", "record_id", "probability")
    )
    audit_record(
        actor=scope,
        action="linkage.export",
        object_type="linkage_batch",
        object_id=batch.pk,
        details={"rows": len(lines)},
    )
    return batch, lines
