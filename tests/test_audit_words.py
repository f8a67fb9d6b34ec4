"""Issue 14: the audit log in words (action names, outcomes, local time, the object as a link
with its name, details as labelled fields) and every action code the code writes named."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from wangge.core.audit import audit_record
from wangge.core.audit_words import TASK_ACTIONS, action_label, detail_fields
from wangge.core.models import AuditEntry

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1] / "wangge"


def _codes_in_source() -> set[str]:
    """Every action code the code writes: the literal ones, and the composed ones expanded."""
    from wangge.events.rules import RULES

    codes: set[str] = set()
    for path in ROOT.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        text = path.read_text()
        if "audit_record" not in text and "log_change" not in text and "save_change" not in text:
            continue
        codes |= set(re.findall(r'action="([a-z_]+\.[a-z_.]+)"', text))
        # log_change / save_change(kind=…, action="create") write "<kind>.<action>"
        for kind, action in re.findall(r'kind=(\w+), action="([a-z_]+)"', text):
            kinds = {"KIND": ["person"], "HOUSEHOLD": ["household"]}.get(
                kind, ["organisation", "thing", "estate", "building", "room"]
            )
            codes |= {f"{k}.{action}" for k in kinds}
    codes |= {f"event.{a}" for a in RULES} | {"event.escalate", "event.overdue"}
    codes |= {f"campaign.task.{a}" for a in TASK_ACTIONS}
    codes |= {f"ledger.import.{k}" for k in ("people", "organisations", "things", "addresses")}
    codes |= {f"{k}.verify" for k in ("person", "organisation", "thing")}
    codes |= {"party_member.create", "party_member.update"}
    return codes - {"wangge.audit.checkpoint", "wangge.audit.entry"}


def test_every_action_the_code_writes_has_chinese_words() -> None:
    codes = _codes_in_source()
    assert len(codes) > 60
    with translation.override("zh-hans"):
        unnamed = sorted(c for c in codes if action_label(c) == c)
        english = sorted(
            c for c in codes if re.search(r"[A-Za-z]{3,}", action_label(c).replace("API", ""))
        )
    assert unnamed == []
    assert english == []


def test_the_words_for_the_actions_an_auditor_looks_for() -> None:
    with translation.override("zh-hans"):
        assert action_label("personal.reveal", {"field": "id_number"}) == "查看身份证号"
        assert action_label("personal.reveal", {"field": "phone"}) == "查看手机号"
        assert action_label("ledger.export.people", {"unmasked": True}) == "导出完整数据（人口）"
        assert action_label("event.dispatch") == "派遣事件"
        assert action_label("person.retire") == "注销人员"
        assert action_label("never.heard_of") == "never.heard_of"
        assert detail_fields({"field": "id_number", "reason": "核实身份", "unmasked": False}) == [
            ("字段", "身份证号"),
            ("原因", "核实身份"),
            ("完整数据", "否"),
        ]


def test_the_audit_page_speaks_words_and_local_time(client_as: Any, system: Any) -> None:
    from wangge.core.models import User
    from wangge.core.scope import scope_for
    from wangge.events.intake import Report, event_report
    from wangge.regions.selectors import interior_point_unscoped

    lon, lat = interior_point_unscoped("440704003001001")
    worker = scope_for(User.objects.get(username="demo-grid"))
    event = event_report(worker, Report(category="0102", title="审计页", lon=lon, lat=lat)).event
    audit_record(
        actor=system,
        action="personal.reveal",
        object_type="event",
        object_id=event.pk,
        outcome="denied",
        details={"field": "phone", "reason": "回访来电"},
    )
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry is not None
    body = client_as("demo-auditor").get("/audit/").content.decode()
    assert "查看手机号" in body
    assert f'<a href="/events/{event.pk}/">{event.number}</a>' in body
    assert "<dt>原因</dt><dd>回访来电</dd>" in body
    assert "拒绝" in body and "成功" in body
    assert "{&#x27;" not in body and "{'" not in body  # no Python dicts
    local = entry.at.astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert local.strftime("%Y-%m-%d %H:%M:%S") in body
    # the filters are dropdowns of what is in the log
    assert '<option value="personal.reveal">查看个人信息</option>' in body
    assert '<select name="actor">' in body and '<select name="outcome">' in body
    filtered = client_as("demo-auditor").get("/audit/?action=personal.reveal&outcome=denied")
    assert filtered.content.decode().count("<tr><td>") == 1
