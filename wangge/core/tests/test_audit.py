from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import stat
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from wangge.core.audit import GENESIS, audit_key_path, audit_record, audit_verify
from wangge.core.models import AuditEntry
from wangge.env import ConfigError

pytestmark = pytest.mark.django_db


def _drop_triggers() -> None:
    """What an attacker with database access would do first. Rolled back with the test."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER core_auditentry_no_change ON core_auditentry")
        else:
            cursor.execute("DROP TRIGGER core_auditentry_no_update")
            cursor.execute("DROP TRIGGER core_auditentry_no_delete")


def _kinds(problems: Any) -> list[tuple[str, int, int, int]]:
    """(kind, first entry, last entry, checkpoint line) of each problem."""
    return [(p.kind, p.seq, p.last_seq, p.checkpoint) for p in problems]


def _head() -> int:
    return int(AuditEntry.objects.order_by("-seq").values_list("seq", flat=True)[0])


def _payload(entry: AuditEntry) -> dict[str, Any]:
    """The entry's fields as the chain has hashed them since the first release (written out
    here, not taken from the code: old entries must keep verifying)."""
    return {
        "seq": entry.seq,
        "at": entry.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "outcome": entry.outcome,
        "client_ip": entry.client_ip,
        "details": entry.details,
        "prev_hash": entry.prev_hash,
    }


def _dumps(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _legacy_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(_dumps(_payload(entry))).hexdigest()


def _sha256_over_keyed_fields(entry: AuditEntry) -> str:
    """What an attacker without the key can compute: the keyed message, hashed without a key."""
    return hashlib.sha256(_dumps({**_payload(entry), "scheme": entry.scheme})).hexdigest()


def _rewrite_from(seq: int, *, hasher: Any, scheme: str | None = None) -> None:
    """Recompute every hash from `seq` to the head with `hasher`, relinking the chain."""
    prev = AuditEntry.objects.get(seq=seq - 1).hash if seq > 1 else GENESIS
    for entry in AuditEntry.objects.filter(seq__gte=seq).order_by("seq"):
        entry.prev_hash = prev
        if scheme is not None:
            entry.scheme = scheme
        entry.hash = hasher(entry)
        AuditEntry.objects.filter(pk=entry.pk).update(
            prev_hash=entry.prev_hash, scheme=entry.scheme, hash=entry.hash
        )
        prev = entry.hash


def test_entries_chain_by_keyed_hash_and_sequence(system: Any) -> None:
    first = audit_record(actor=system, action="test.one", object_type="x", object_id=1)
    second = audit_record(actor=system, action="test.two", details={"k": "值"})

    assert second.seq == first.seq + 1
    assert second.prev_hash == first.hash
    assert AuditEntry.objects.order_by("seq")[0].prev_hash == GENESIS
    # The hash is an HMAC under the key in the audit key file, not a plain SHA-256.
    doc = json.loads(audit_key_path().read_text())
    key = base64.b64decode(doc["key"])
    message = b"wangge.audit.entry\x00" + _dumps({**_payload(second), "scheme": "hmac-sha256"})
    assert second.scheme == "hmac-sha256"
    assert second.hash == hmac.new(key, message, hashlib.sha256).hexdigest()
    assert second.hash != _sha256_over_keyed_fields(second)


def test_verify_passes_on_the_demo_log(system: Any) -> None:
    audit_record(actor=system, action="test.one")
    report = audit_verify()
    assert report.entries == AuditEntry.objects.count() > 0
    assert report.head == _head()
    assert report.problems == []


def test_database_refuses_update_and_delete(system: Any) -> None:
    entry = audit_record(actor=system, action="test.one")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(action="test.changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.one"


def test_verify_detects_an_edited_entry(system: Any) -> None:
    entry = audit_record(actor=system, action="test.one", details={"n": 1})
    audit_record(actor=system, action="test.two")
    _drop_triggers()
    AuditEntry.objects.filter(pk=entry.pk).update(details={"n": 2})

    assert _kinds(audit_verify().problems) == [("edited", entry.seq, entry.seq, 0)]
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit", "verify", stdout=out)
    assert exit_info.value.code == 1
    assert f"#{entry.seq}：已被篡改" in out.getvalue()


def test_verify_detects_a_deleted_entry(system: Any) -> None:
    audit_record(actor=system, action="test.one")
    middle = audit_record(actor=system, action="test.two")
    audit_record(actor=system, action="test.three")
    _drop_triggers()
    AuditEntry.objects.filter(pk=middle.pk).delete()

    assert _kinds(audit_verify().problems) == [("deleted", middle.seq, middle.seq, 0)]


def test_verify_detects_reordered_entries(system: Any) -> None:
    a = audit_record(actor=system, action="test.a")
    b = audit_record(actor=system, action="test.b")
    audit_record(actor=system, action="test.c")
    _drop_triggers()
    # Swap the two rows' sequence numbers (through a free value, seq is unique).
    AuditEntry.objects.filter(pk=a.pk).update(seq=-1)
    AuditEntry.objects.filter(pk=b.pk).update(seq=a.seq)
    AuditEntry.objects.filter(pk=a.pk).update(seq=b.seq)

    # The entry after the pair links to b, now one place early: part of the reordering too.
    assert _kinds(audit_verify().problems) == [("reordered", a.seq, b.seq + 1, 0)]


def test_recomputing_the_hashes_without_the_key_is_detected(system: Any) -> None:
    """The attacker edits an entry and rebuilds the chain from there with SHA-256: every link
    holds, but no hash is the keyed one."""
    edited = audit_record(actor=system, action="test.one", details={"n": 1})
    for n in range(5):
        audit_record(actor=system, action="test.more", details={"n": n})
    _drop_triggers()
    AuditEntry.objects.filter(pk=edited.pk).update(details={"n": 2})
    _rewrite_from(edited.seq, hasher=_sha256_over_keyed_fields)

    assert _kinds(audit_verify().problems) == [("edited", edited.seq, _head(), 0)]


def test_a_keyed_tail_cannot_be_downgraded_to_the_unkeyed_scheme(system: Any) -> None:
    """Marking entries as written before keying (plain SHA-256) would let anyone recompute
    them: once the chain is keyed, every later entry must be keyed."""
    edited = audit_record(actor=system, action="test.one", details={"n": 1})
    audit_record(actor=system, action="test.two")
    _drop_triggers()
    AuditEntry.objects.filter(pk=edited.pk).update(details={"n": 2})
    _rewrite_from(edited.seq, hasher=_legacy_hash, scheme="sha256")

    assert _kinds(audit_verify().problems) == [("downgraded", edited.seq, _head(), 0)]


def test_the_whole_keyed_chain_cannot_be_downgraded(system: Any) -> None:
    """Not even from the first entry: the key file records where keying began."""
    _drop_triggers()
    _rewrite_from(1, hasher=_legacy_hash, scheme="sha256")

    assert _kinds(audit_verify().problems) == [("downgraded", 1, _head(), 0)]


def _start_unkeyed_log(count: int) -> None:
    """An installation upgraded from before keying: `count` unkeyed entries, as the old code
    wrote them. (The test's transaction rolls the emptied log back.)"""
    from django.utils import timezone

    _drop_triggers()
    AuditEntry.objects.all().delete()
    prev = GENESIS
    for seq in range(1, count + 1):
        entry = AuditEntry(
            seq=seq,
            at=timezone.now(),
            actor_name="system:old",
            action="test.old",
            details={"n": seq},
            prev_hash=prev,
            scheme="sha256",
        )
        entry.hash = _legacy_hash(entry)
        entry.save(force_insert=True)
        prev = entry.hash


def test_old_unkeyed_entries_followed_by_keyed_ones_verify(
    system: Any, settings: Any, tmp_path: Path
) -> None:
    settings.AUDIT_KEY_FILE = str(tmp_path / "keys" / "audit.json")
    _start_unkeyed_log(3)

    fourth = audit_record(actor=system, action="test.new")
    audit_record(actor=system, action="test.newer")

    # The key is made on first use, outside the database, readable by the owner only, and
    # remembers that entries up to #3 came before it.
    key_file = tmp_path / "keys" / "audit.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert json.loads(key_file.read_text())["legacy_until"] == 3
    assert fourth.seq == 4
    assert list(AuditEntry.objects.order_by("seq").values_list("scheme", flat=True)) == [
        "sha256",
        "sha256",
        "sha256",
        "hmac-sha256",
        "hmac-sha256",
    ]
    report = audit_verify()
    assert (report.entries, report.problems) == (5, [])


def test_an_unkeyed_entry_after_a_keyed_one_is_a_downgrade(
    system: Any, settings: Any, tmp_path: Path
) -> None:
    settings.AUDIT_KEY_FILE = str(tmp_path / "audit.json")
    _start_unkeyed_log(2)
    audit_record(actor=system, action="test.new")
    audit_record(actor=system, action="test.newer")
    # The attacker rebuilds #4 as an old-style entry; #3 stays keyed.
    _rewrite_from(4, hasher=_legacy_hash, scheme="sha256")

    assert _kinds(audit_verify().problems) == [("downgraded", 4, 4, 0)]


def test_the_sm_profile_keys_the_chain_with_hmac_sm3(
    system: Any, settings: Any, tmp_path: Path
) -> None:
    settings.CRYPTO_PROFILE = "sm"
    settings.AUDIT_KEY_FILE = str(tmp_path / "audit.json")
    _start_unkeyed_log(0)

    entry = audit_record(actor=system, action="test.sm")

    assert json.loads((tmp_path / "audit.json").read_text())["algorithm"] == "HMAC-SM3"
    assert entry.scheme == "hmac-sm3"
    assert audit_verify().problems == []
    AuditEntry.objects.filter(pk=entry.pk).update(details={"changed": True})
    assert _kinds(audit_verify().problems) == [("edited", 1, 1, 0)]


def test_a_keyed_log_refuses_to_write_without_its_key(
    system: Any, settings: Any, tmp_path: Path
) -> None:
    """A lost key file must not be silently replaced: every keyed entry would look forged."""
    settings.AUDIT_KEY_FILE = str(tmp_path / "missing.json")

    with pytest.raises(ConfigError, match=r"missing\.json"):
        audit_record(actor=system, action="test.one")
    assert not (tmp_path / "missing.json").exists()
    assert _kinds(audit_verify().problems) == [("key_missing", 0, 0, 0)]


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
