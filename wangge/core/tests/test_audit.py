from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from wangge.core.audit import GENESIS, audit_record, audit_verify, entry_hash
from wangge.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def _drop_triggers() -> None:
    """What an attacker with database access would do first. Rolled back with the test."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER core_auditentry_no_change ON core_auditentry")
        else:
            cursor.execute("DROP TRIGGER core_auditentry_no_update")
            cursor.execute("DROP TRIGGER core_auditentry_no_delete")


def test_entries_chain_by_hash_and_sequence(system: Any) -> None:
    first = audit_record(actor=system, action="test.one", object_type="x", object_id=1)
    second = audit_record(actor=system, action="test.two", details={"k": "值"})

    assert second.seq == first.seq + 1
    assert second.prev_hash == first.hash
    assert entry_hash(second) == second.hash
    assert AuditEntry.objects.order_by("seq")[0].prev_hash == GENESIS


def test_verify_passes_on_the_demo_log(system: Any) -> None:
    audit_record(actor=system, action="test.one")
    checked, problems = audit_verify()
    assert checked == AuditEntry.objects.count() > 0
    assert problems == []


def test_database_refuses_update_and_delete(system: Any) -> None:
    entry = audit_record(actor=system, action="test.one")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(action="test.changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.one"


def test_verify_detects_an_edited_entry(system: Any, capsys: Any) -> None:
    entry = audit_record(actor=system, action="test.one", details={"n": 1})
    _drop_triggers()
    AuditEntry.objects.filter(pk=entry.pk).update(details={"n": 2})

    _checked, problems = audit_verify()
    assert [(p.seq, p.reason) for p in problems] == [(entry.seq, "content does not match its hash")]
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit", "verify")
    assert exit_info.value.code == 1
    assert "篡改" in capsys.readouterr().out


def test_verify_detects_a_deleted_entry(system: Any) -> None:
    audit_record(actor=system, action="test.one")
    middle = audit_record(actor=system, action="test.two")
    audit_record(actor=system, action="test.three")
    _drop_triggers()
    AuditEntry.objects.filter(pk=middle.pk).delete()

    _checked, problems = audit_verify()
    assert {p.reason for p in problems} >= {"previous-hash link broken"}
    assert any("sequence jumps" in p.reason for p in problems)


def test_verify_detects_reordered_entries(system: Any) -> None:
    a = audit_record(actor=system, action="test.a")
    b = audit_record(actor=system, action="test.b")
    _drop_triggers()
    # Swap the two rows' sequence numbers (through a free value, seq is unique).
    AuditEntry.objects.filter(pk=a.pk).update(seq=-1)
    AuditEntry.objects.filter(pk=b.pk).update(seq=a.seq)
    AuditEntry.objects.filter(pk=a.pk).update(seq=b.seq)

    _checked, problems = audit_verify()
    assert problems, "a reordering must break the chain"


def test_client_address_comes_from_the_request(client_as: Any) -> None:
    client = client_as("demo-auditor")
    client.get("/audit/", REMOTE_ADDR="10.1.2.3")  # a read: no entry
    from wangge.core.context import RequestContext, current
    from wangge.core.models import User
    from wangge.core.services import token_create

    token = current.set(RequestContext(client_ip="10.9.8.7"))
    try:
        _t, _plain = token_create(
            actor=User.objects.get(username="demo-district"),
            user=User.objects.get(username="demo-auditor"),
            name="x",
        )
    finally:
        current.reset(token)
    entry = AuditEntry.objects.order_by("-seq")[0]
    assert entry.action == "token.create"
    assert entry.client_ip == "10.9.8.7"
    assert entry.actor_name == "demo-district"
