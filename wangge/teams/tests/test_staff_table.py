"""The staff directory as a table (issue 14 §4): sort by a whitelisted column, the id last."""

from __future__ import annotations

from typing import Any

import pytest

from wangge.core.models import User
from wangge.core.scope import scope_for
from wangge.teams import selectors
from wangge.teams.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def test_staff_sort_by_employer_with_id_ties(client_as: Any) -> None:
    made = [StaffFactory.create(employer=e) for e in ("乙单位", "甲单位", "乙单位")]
    actor = scope_for(User.objects.get(username="demo-district"))
    ours = {s.pk for s in made}

    def order(sort: str) -> list[int]:
        return [s.pk for s in selectors.staff_list(actor=actor, sort=sort) if s.pk in ours]

    first, second, third = made
    assert order("employer") == [first.pk, third.pk, second.pk]  # 乙 U+4E59 before 甲
    assert order("-employer") == [second.pk, third.pk, first.pk]
    assert order("phone") == order("name") == order("")  # not a key: by name
    body = client_as("demo-district").get("/teams/staff/?sort=-employer").content.decode()
    assert '<th data-sort="employer" aria-sort="descending">' in body


def test_the_staff_workbook_is_the_list_masked_and_audited(client_as: Any) -> None:
    import io

    from openpyxl import load_workbook

    from wangge.core.models import AuditEntry

    made = [StaffFactory.create(employer=e) for e in ("导出乙", "导出甲")]
    client = client_as("demo-district")
    page = client.get("/teams/staff/?sort=employer").content.decode()
    assert "/teams/staff/export.xlsx?sort=employer" in page
    response = client.get("/teams/staff/export.xlsx?sort=employer")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content), read_only=True).active.values)
    ours = [r for r in rows[1:] if r[5] in {"导出乙", "导出甲"}]
    assert [r[5] for r in ours] == ["导出乙", "导出甲"]  # the list's order (乙 before 甲)
    assert all("****" in r[2] and "*" in r[3] for r in ours)  # phone and ID number masked
    assert all(made[0].phone not in str(r) for r in rows)
    entry = AuditEntry.objects.filter(action="teams.export.staff").latest("seq")
    assert entry.details["rows"] == len(rows) - 1
    # A search by a full phone is not offered for download (the number never goes into a link).
    searched = client.get(f"/teams/staff/?q={made[0].phone}").content.decode()
    assert 'data-testid="export"' not in searched
