"""Signed checkpoints of the audit chain's head, kept outside the database."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from wangge.core.audit import audit_checkpoint, audit_record, audit_verify, checkpoint_file_path
from wangge.core.models import AuditEntry
from wangge.core.tests.test_audit import _drop_triggers, _head, _kinds

pytestmark = pytest.mark.django_db


def _lines() -> list[dict[str, Any]]:
    path = checkpoint_file_path()
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def _verify_json() -> tuple[int, dict[str, Any]]:
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit", "verify", "--json", stdout=out)
    return int(str(exit_info.value.code)), json.loads(out.getvalue())


def test_every_test_gets_its_own_checkpoint_file(tmp_path: Path) -> None:
    """Files do not roll back with the test's transaction (see conftest)."""
    assert checkpoint_file_path() == tmp_path / "audit" / "checkpoints.jsonl"


def test_a_checkpoint_records_the_head_in_a_private_file(system: Any) -> None:
    head = audit_record(actor=system, action="test.one")

    out = io.StringIO()
    call_command("audit", "checkpoint", stdout=out)

    [line] = _lines()
    assert (line["seq"], line["hash"]) == (head.seq, head.hash)
    assert sorted(line) == ["at", "hash", "mac", "seq"]
    path = checkpoint_file_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert f"#{head.seq}" in out.getvalue()
    assert audit_verify().checkpoints == 1


def test_checkpoint_twice_without_new_entries_writes_one_line(system: Any) -> None:
    audit_record(actor=system, action="test.one")

    first = audit_checkpoint()
    second = audit_checkpoint()

    assert (first.written, second.written) == (True, False)
    assert second.checkpoint == first.checkpoint
    assert len(_lines()) == 1
    audit_record(actor=system, action="test.two")
    assert audit_checkpoint().written is True
    assert [line["seq"] for line in _lines()] == [_head() - 1, _head()]
    assert audit_verify().problems == []


def test_cutting_the_tail_after_a_checkpoint_is_detected(system: Any) -> None:
    """The attacker test of finding 10: the last 40 entries deleted on a copy with the
    triggers dropped. The chain itself is still whole; only the checkpoint tells."""
    for n in range(40):
        audit_record(actor=system, action="test.tail", details={"n": n})
    head = _head()
    audit_checkpoint()
    _drop_triggers()
    AuditEntry.objects.filter(seq__gt=head - 40).delete()

    report = audit_verify()
    assert report.head == head - 40
    assert _kinds(report.problems) == [("tail_cut", head - 39, head, 1)]
    status, doc = _verify_json()
    assert status == 1
    assert doc["ok"] is False
    assert [(p["kind"], p["seq"], p["last_seq"], p["checkpoint"]) for p in doc["problems"]] == [
        ("tail_cut", head - 39, head, 1)
    ]
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("audit", "verify", stdout=out)
    assert "检查点 1" in out.getvalue()
    assert "截断" in out.getvalue()


def test_a_checkpoint_catches_a_rewrite_up_to_it(system: Any) -> None:
    entry = audit_record(actor=system, action="test.one", details={"n": 1})
    audit_checkpoint()
    _drop_triggers()
    AuditEntry.objects.filter(pk=entry.pk).update(hash="f" * 64)

    assert _kinds(audit_verify().problems) == [
        ("edited", entry.seq, entry.seq, 0),
        ("checkpoint_mismatch", entry.seq, entry.seq, 1),
    ]


def test_an_edited_checkpoint_line_is_forged(system: Any) -> None:
    """Lowering a checkpoint's seq would hide a tail cut: the signature covers it."""
    audit_record(actor=system, action="test.one")
    audit_checkpoint()
    path = checkpoint_file_path()
    [line] = _lines()
    line["seq"] -= 1
    line["hash"] = AuditEntry.objects.get(seq=line["seq"]).hash
    path.write_text(json.dumps(line) + "\n")

    assert _kinds(audit_verify().problems) == [("checkpoint_forged", 0, 0, 1)]


def test_a_checkpoint_signed_with_another_key_is_forged(system: Any) -> None:
    import hashlib
    import hmac

    head = audit_record(actor=system, action="test.one")
    audit_checkpoint()
    forged = {"seq": head.seq + 5, "hash": "a" * 64, "at": "2030-01-01T00:00:00+00:00"}
    message = (
        b"wangge.audit.checkpoint\x00"
        + json.dumps(forged, sort_keys=True, separators=(",", ":")).encode()
    )
    forged["mac"] = hmac.new(b"guessed" * 5, message, hashlib.sha256).hexdigest()
    with checkpoint_file_path().open("a") as handle:
        handle.write(json.dumps(forged) + "\n")
        handle.write("not json\n")

    # Neither line is believed: in particular the forged one does not report a tail cut.
    assert _kinds(audit_verify().problems) == [
        ("checkpoint_forged", 0, 0, 2),
        ("checkpoint_forged", 0, 0, 3),
    ]


def test_checkpoint_refuses_to_sign_a_cut_log(system: Any) -> None:
    for n in range(3):
        audit_record(actor=system, action="test.tail", details={"n": n})
    audit_checkpoint()
    _drop_triggers()
    AuditEntry.objects.filter(seq__gt=_head() - 3).delete()
    before = checkpoint_file_path().read_text()

    with pytest.raises(CommandError, match="检查点"):
        call_command("audit", "checkpoint", stdout=io.StringIO())
    assert checkpoint_file_path().read_text() == before


def test_the_worker_writes_a_checkpoint(system: Any) -> None:
    """`wangge worker` writes checkpoints between jobs (here once, as from cron)."""
    head = audit_record(actor=system, action="test.one")

    call_command("worker", "--once", stdout=io.StringIO())

    assert [(line["seq"], line["hash"]) for line in _lines()] == [(head.seq, head.hash)]


def test_the_worker_logs_a_refused_checkpoint_and_carries_on(system: Any, caplog: Any) -> None:
    for n in range(3):
        audit_record(actor=system, action="test.tail", details={"n": n})
    audit_checkpoint()
    _drop_triggers()
    checkpointed = _head()
    AuditEntry.objects.filter(seq__gt=checkpointed - 3).delete()
    before = checkpoint_file_path().read_text()

    call_command("worker", "--once", stdout=io.StringIO())

    assert checkpoint_file_path().read_text() == before
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert [e.split("：")[0] for e in errors] == [
        f"audit checkpoint refused: 审计日志与最近一个检查点（#{checkpointed}）不再相符"
    ]
