"""The audit log: append-only, hash-chained. `audit_record` is the only writer.

Each entry's hash is SHA-256 over its own fields and the previous entry's hash, and entries
carry a gap-free sequence number, so an edited, deleted or reordered row breaks the chain.
Writers are serialised: on PostgreSQL by a transaction-scoped advisory lock, on SQLite by the
write lock that IMMEDIATE transactions take when they begin.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from wangge.core.context import current
from wangge.core.models import AuditEntry
from wangge.core.scope import Scope, as_scope

GENESIS = "0" * 64
_ADVISORY_LOCK_KEY = 7_415_002  # arbitrary, constant: "the audit chain"


def _canonical(
    *,
    seq: int,
    at: datetime,
    actor_id: int | None,
    actor_name: str,
    action: str,
    object_type: str,
    object_id: str,
    outcome: str,
    client_ip: str,
    details: Any,
    prev_hash: str,
) -> bytes:
    payload = {
        "seq": seq,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "actor_name": actor_name,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "outcome": outcome,
        "client_ip": client_ip,
        "details": details,
        "prev_hash": prev_hash,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(
        _canonical(
            seq=entry.seq,
            at=entry.at,
            actor_id=entry.actor_id,
            actor_name=entry.actor_name,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            outcome=entry.outcome,
            client_ip=entry.client_ip,
            details=entry.details,
            prev_hash=entry.prev_hash,
        )
    ).hexdigest()


def audit_record(
    *,
    actor: Any,
    action: str,
    object_type: str = "",
    object_id: str | int = "",
    outcome: str = "success",
    details: dict[str, Any] | None = None,
    client_ip: str | None = None,
) -> AuditEntry:
    """Append one entry. Call it inside the service's transaction so both commit or neither."""
    scope: Scope = as_scope(actor)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
        last = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
        entry = AuditEntry(
            seq=seq,
            at=timezone.now(),
            actor_id=scope.user_id,
            actor_name=scope.username,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            outcome=outcome,
            client_ip=client_ip if client_ip is not None else current.get().client_ip,
            details=details or {},
            prev_hash=prev_hash,
        )
        entry.hash = entry_hash(entry)
        entry.save(force_insert=True)
    return entry


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    reason: str


def audit_verify(*, batch: int = 5000) -> tuple[int, list[ChainProblem]]:
    """Walk the whole chain. Returns (entries checked, problems); no problems means intact."""
    problems: list[ChainProblem] = []
    expected_seq = 1
    prev_hash = GENESIS
    checked = 0
    for entry in _iter_entries(batch):
        checked += 1
        if entry.seq != expected_seq:
            problems.append(
                ChainProblem(entry.seq, f"sequence jumps from {expected_seq - 1} to {entry.seq}")
            )
        if entry.prev_hash != prev_hash:
            problems.append(ChainProblem(entry.seq, "previous-hash link broken"))
        if entry_hash(entry) != entry.hash:
            problems.append(ChainProblem(entry.seq, "content does not match its hash"))
        expected_seq = entry.seq + 1
        prev_hash = entry.hash
    return checked, problems


def _iter_entries(batch: int) -> Iterator[AuditEntry]:
    last = 0
    while True:
        rows = list(AuditEntry.objects.filter(seq__gt=last).order_by("seq")[:batch])
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
