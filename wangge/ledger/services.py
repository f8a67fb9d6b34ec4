"""Writes and audited reads of the ledger."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from wangge.core.audit import audit_record
from wangge.core.errors import PermissionDenied, ValidationFailed
from wangge.core.personal import REVEAL_REASON_MIN, mask_id_number, mask_phone
from wangge.core.roles import Perm
from wangge.core.scope import as_scope
from wangge.core.tabular import safe_cell
from wangge.ledger.columns import CARE_LABELS, POPULATION_LABELS
from wangge.ledger.models import Person


def person_viewed(*, actor: Any, person: Person, via: str) -> None:
    """Every look at a person's page is in the audit log (PIPL: who saw whose data)."""
    audit_record(
        actor=actor,
        action="person.view",
        object_type="person",
        object_id=person.pk,
        details={"via": via},
    )


EXPORT_HEADERS = [
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


def people_export_rows(
    *, actor: Any, people: QuerySet[Person], unmasked: bool, reason: str
) -> Iterator[str]:
    """CSV lines (UTF-8 with BOM, for Excel) of people already narrowed by a scoped selector.
    Masked unless `unmasked`, which needs `personal.reveal` and a reason; both are audited."""
    scope = as_scope(actor)
    if unmasked:
        if not scope.has(Perm.PERSONAL_REVEAL):
            raise PermissionDenied(_("Your role may not export full personal data."))
        if len(reason.strip()) < REVEAL_REASON_MIN:
            raise ValidationFailed(
                _("Give a reason of at least %(n)d characters.") % {"n": REVEAL_REASON_MIN},
                code="reason_required",
            )
    audit_record(
        actor=actor,
        action="ledger.export.people",
        object_type="ledger",
        object_id="people",
        details={"unmasked": unmasked, "reason": reason.strip()[:500], "rows": people.count()},
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return value

    writer.writerow(EXPORT_HEADERS)
    yield "\ufeff" + flush()
    for n, p in enumerate(people.iterator(chunk_size=2000), start=1):
        writer.writerow(
            [
                safe_cell(v)
                for v in (
                    p.grid_code,
                    p.name,
                    {"male": "男", "female": "女"}.get(p.gender, ""),
                    p.birth_date.isoformat() if p.birth_date else "",
                    p.id_number if unmasked else mask_id_number(p.id_number),
                    (p.phone if unmasked else mask_phone(p.phone)) if p.phone else "",
                    POPULATION_LABELS.get(p.population_type, p.population_type),
                    p.current_address,
                    "、".join(CARE_LABELS.get(t, t) for t in p.care_tag_list()),
                )
            ]
        )
        if n % 500 == 0:
            yield flush()
    yield flush()
