"""The audit log as a table (issue 14 §4): sorted by whitelisted columns, exported to Excel as
the page lists it (in words, Beijing time), for auditors only, and the export audited."""

from __future__ import annotations

import io
from typing import Any

import pytest

from wangge.core.audit import audit_record
from wangge.core.models import AuditEntry
from wangge.core.scope import Scope

pytestmark = pytest.mark.django_db


def test_the_audit_workbook_is_the_page_in_words(client_as: Any, system: Scope) -> None:
    from openpyxl import load_workbook

    audit_record(actor=system, action="event.dispatch", object_type="event", object_id="1")
    audit_record(actor=system, action="ledger.export.people", details={"rows": 3})
    client = client_as("demo-auditor")
    page = client.get("/audit/?sort=action").content.decode()
    assert '<th data-sort="action" aria-sort="ascending">' in page
    response = client.get("/audit/export.xlsx?sort=-seq")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content), read_only=True).active.values)
    assert rows[0][:4] == ("序号", "时间", "用户", "操作")
    seqs = [r[0] for r in rows[1:]]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) == AuditEntry.objects.count() - 1
    by_seq = {r[0]: r for r in rows[1:]}
    people = AuditEntry.objects.filter(action="ledger.export.people").latest("seq")
    assert by_seq[people.seq][3] == "导出人口（脱敏）" and by_seq[people.seq][6] == "成功"
    assert "行数：3" in by_seq[people.seq][8]
    assert AuditEntry.objects.latest("seq").action == "audit.export"


def test_only_auditors_export_the_log(client_as: Any) -> None:
    for username in ("demo-district", "demo-grid"):
        assert client_as(username).get("/audit/export.xlsx").status_code == 404
    assert not AuditEntry.objects.filter(action="audit.export").exists()
