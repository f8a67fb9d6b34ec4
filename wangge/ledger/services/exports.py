"""The people export: masked by default; full ID numbers and phones only with a reason, only
for the people a grant holding `personal.reveal` covers, and audited either way."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from wangge.core.audit import audit_record
from wangge.core.errors import PermissionDenied, ValidationFailed
from wangge.core.personal import REVEAL_REASON_MIN, mask_id_number, mask_phone
from wangge.core.roles import Perm
from wangge.core.scope import as_scope
from wangge.core.tabular import safe_cell
from wangge.ledger.columns import CARE_LABELS, GENDER_LABELS, POPULATION_LABELS
from wangge.ledger.models import Person

MASKED_HEADERS = [
    "网格编码",
    "姓名",
    "性别",
    "出生年份",
    "身份证号",
    "手机号码",
    "人口类型",
    "现住地址",
    "关爱对象",
]
FULL_HEADERS = [
    "网格编码",
    "姓名",
    "性别",
    "出生日期",
    "身份证号",
    "手机号码",
    "人口类型",
    "现住地址",
    "关爱对象",
]


def people_export(
    *, actor: Any, unmasked: bool = False, reason: str = "", xlsx: bool = False, **filters: Any
) -> Iterator[str] | bytes:
    """CSV lines (UTF-8 with BOM, for Excel) of the people `person_list` gives for `filters`
    (and its sort: the rows in the list's order).

    Every check runs and the audit entry is written before this returns (not on the first line
    read). A masked export shows the birth year, not the date (with the masked ID number the
    date would rebuild it). An unmasked one needs a reason and holds only the people whom a
    grant with `personal.reveal` covers. `xlsx`: the same rows as an Excel workbook (bytes),
    over at most PEOPLE_XLSX_MAX_ROWS rows (more: the CSV, which streams)."""
    from wangge.ledger.selectors import person_list

    scope = as_scope(actor)
    reason = (reason or "").strip()
    people = person_list(actor=scope, **filters)
    if unmasked:
        if not scope.has(Perm.PERSONAL_REVEAL):
            raise PermissionDenied(_("Your role may not export full personal data."))
        if len(reason) < REVEAL_REASON_MIN:
            raise ValidationFailed(
                _("Give a reason of at least %(n)d characters.") % {"n": REVEAL_REASON_MIN},
                code="reason_required",
            )
        people = person_list(actor=scope, perm=Perm.PERSONAL_REVEAL, **filters)
    if xlsx and people.count() > PEOPLE_XLSX_MAX_ROWS:
        raise ValidationFailed(
            _(
                "%(n)d people are too many for one workbook (at most %(max)d): narrow the "
                "filters, or export as CSV."
            )
            % {"n": people.count(), "max": PEOPLE_XLSX_MAX_ROWS},
            code="too_many_rows",
        )
    audit_record(
        actor=scope,
        action="ledger.export.people",
        object_type="ledger",
        object_id="people",
        details={
            "unmasked": unmasked,
            "reason": reason[:500],
            "rows": people.count(),
            "format": "xlsx" if xlsx else "csv",
        },
    )
    if xlsx:
        return _workbook(people.iterator(chunk_size=2000), unmasked=unmasked)
    return _rows(people.iterator(chunk_size=2000), unmasked=unmasked)


PEOPLE_XLSX_MAX_ROWS = 50_000


def _cells(p: Person, *, unmasked: bool) -> list[Any]:
    """One person's row, as the list shows it: masked unless `unmasked`; the room's address
    where the person has a room."""
    if unmasked:
        birth = p.birth_date.isoformat() if p.birth_date else ""
        id_number, phone = p.id_number, p.phone
    else:
        birth = str(p.birth_date.year) if p.birth_date else ""
        id_number = mask_id_number(p.id_number)
        phone = mask_phone(p.phone) if p.phone else ""
    return [
        p.grid_code,
        p.name,
        GENDER_LABELS.get(p.gender, ""),
        birth,
        id_number,
        phone,
        POPULATION_LABELS.get(p.population_type, p.population_type),
        str(p.room) if p.room_id else p.current_address,
        "、".join(CARE_LABELS.get(t, t) for t in p.care_tag_list()),
    ]


def _workbook(people: Iterator[Person], *, unmasked: bool) -> bytes:
    from wangge.core.tabular import write_xlsx

    headers = FULL_HEADERS if unmasked else MASKED_HEADERS
    rows = (_cells(p, unmasked=unmasked) for p in people)
    return write_xlsx([(_("People"), headers, rows)])


def _rows(people: Iterator[Person], *, unmasked: bool) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return value

    writer.writerow(FULL_HEADERS if unmasked else MASKED_HEADERS)
    yield "\ufeff" + flush()
    for n, p in enumerate(people, start=1):
        writer.writerow([safe_cell(v) for v in _cells(p, unmasked=unmasked)])
        if n % 500 == 0:
            yield flush()
    yield flush()


ORGANISATION_HEADERS = [
    "网格编码",
    "名称",
    "统一社会信用代码",
    "类型",
    "法定代表人",
    "联系电话",
    "从业人数",
    "重点场所标签",
    "地址",
]
ORGANISATIONS_XLSX_MAX_ROWS = 50_000


def organisations_export(*, actor: Any, **filters: Any) -> bytes:
    """The organisations `organisation_list` gives for `filters` (and its sort), as an Excel
    workbook of what the list shows: the phone masked. Audited; refused past
    ORGANISATIONS_XLSX_MAX_ROWS with a message to narrow the filters."""
    from wangge.core.tabular import write_xlsx
    from wangge.ledger.columns import KIND_LABELS
    from wangge.ledger.selectors import organisation_list

    scope = as_scope(actor)
    found = organisation_list(actor=scope, **filters)
    total = found.count()
    if total > ORGANISATIONS_XLSX_MAX_ROWS:
        raise ValidationFailed(
            _(
                "%(n)d organisations are too many for one workbook (at most %(max)d): "
                "narrow the filters."
            )
            % {"n": total, "max": ORGANISATIONS_XLSX_MAX_ROWS},
            code="too_many_rows",
        )
    audit_record(
        actor=scope,
        action="ledger.export.organisations",
        object_type="ledger",
        object_id="organisations",
        details={"rows": total, "format": "xlsx"}
        | {k: str(v) for k, v in filters.items() if v not in (None, "", False)},
    )
    rows = (
        [
            o.grid_code,
            o.name,
            o.credit_code,
            KIND_LABELS.get(o.kind, o.kind),
            o.legal_representative,
            mask_phone(o.phone) if o.phone else "",
            o.employees,
            o.key_tags,
            o.address,
        ]
        for o in found.iterator(chunk_size=2000)
    )
    return write_xlsx([(_("Organisations"), ORGANISATION_HEADERS, rows)])


# The operator's full export (`wangge ledger export people`): machine-readable codes, one line
# per current person, with the id the linkage and other systems join on.
FULL_EXPORT_HEADERS = [
    "person_id",
    "name",
    "gender",
    "birth_date",
    "id_number",
    "phone",
    "grid_code",
    "registered_address",
    "current_address",
    "room_code",
    "household_code",
    "relation",
    "population_type",
    "care_tags",
    "version",
]
FULL_EXPORT_BATCH = 2000


@dataclass(frozen=True)
class FullExport:
    rows: int  # people in the file (counted when the export was audited)
    lines: Iterator[str]


def people_export_full(*, actor: Any, reason: str, batch: int = FULL_EXPORT_BATCH) -> FullExport:
    """CSV lines (UTF-8 with BOM) of every current person a grant holding `personal.reveal`
    covers (the system: the whole ledger), with full ID numbers and phones — for an operator on
    the server. A reason is required; the audit entry (`ledger.export_full`: the reason and the
    count, no value) is written before this returns.

    Rows are read in primary-key batches (keyset, `batch` at a time): a district's 300,000
    people are never decrypted or held in memory at once. Text cells cannot run as formulas."""
    scope = as_scope(actor)
    reason = (reason or "").strip()
    if not scope.has(Perm.PERSONAL_REVEAL):
        raise PermissionDenied(_("Your role may not export full personal data."))
    if len(reason) < REVEAL_REASON_MIN:
        raise ValidationFailed(
            _("Give a reason of at least %(n)d characters.") % {"n": REVEAL_REASON_MIN},
            code="reason_required",
        )
    people = Person.objects.visible_to(scope, Perm.PERSONAL_REVEAL).filter(retired_on__isnull=True)
    count = people.count()
    audit_record(
        actor=scope,
        action="ledger.export_full",
        object_type="ledger",
        object_id="people",
        details={"reason": reason[:500], "rows": count},
    )
    return FullExport(rows=count, lines=_full_rows(people, batch=max(1, batch)))


_FULL_COLUMNS = (
    "pk",
    "name",
    "gender",
    "birth_date",
    "id_number",
    "phone",
    "grid_code",
    "registered_address",
    "current_address",
    "room__code",
    "household__code",
    "relation",
    "population_type",
    "care_tags",
    "version",
)


def _full_rows(people: Any, *, batch: int) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return value

    writer.writerow(FULL_EXPORT_HEADERS)
    yield "\ufeff" + flush()
    after = 0
    while True:
        # Tuples, not model instances: only the columns written (and decrypted), one batch at
        # a time; the keyset (`pk > last`) keeps every batch an index range.
        chunk = list(people.filter(pk__gt=after).order_by("pk").values_list(*_FULL_COLUMNS)[:batch])
        if not chunk:
            break
        for row in chunk:
            pk, name, gender, birth, id_number, phone, *rest, care_tags, version = row
            writer.writerow(
                [
                    safe_cell(v)
                    for v in (
                        pk,
                        name,
                        gender,
                        birth.isoformat() if birth else "",
                        id_number,
                        phone,
                        *(v or "" for v in rest),
                        ",".join(t for t in care_tags.split(",") if t),
                        version,
                    )
                ]
            )
        after = chunk[-1][0]
        del chunk
        yield flush()
