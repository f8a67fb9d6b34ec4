"""The audit log: append-only, hash-chained, keyed. `audit_record` is the only writer.

Each entry's hash covers its own fields and the previous entry's hash, and entries carry a
gap-free sequence number, so an edited, deleted or reordered row breaks the chain. The hash is
an HMAC under the audit key, a key file outside the database (`WANGGE_AUDIT_KEY_FILE`, default
`$WANGGE_DATA_DIR/keys/audit.json`, mode 0600, made on first use): someone who can write to the
database but not read that file cannot recompute a valid chain. HMAC-SHA256, or HMAC-SM3 under
the `sm` crypto profile. Entries written before keying keep their plain SHA-256 (`scheme`
`sha256`); the key file records the last of them (`legacy_until`), so no later entry may be
unkeyed, not even by rewriting the whole keyed tail.

The chain alone cannot tell a log whose last entries were deleted from a shorter log. So the
head is checkpointed outside the database: `audit_checkpoint` appends `(seq, hash, time)`,
signed with the audit key, to `WANGGE_AUDIT_CHECKPOINT_FILE` (default
`$WANGGE_DATA_DIR/audit/checkpoints.jsonl`), from the worker every
`WANGGE_AUDIT_CHECKPOINT_SECONDS` and from `wangge audit checkpoint`. `audit_verify` checks
the chain and every checkpoint.

Writers are serialised: on PostgreSQL by a transaction-scoped advisory lock, on SQLite by the
write lock that IMMEDIATE transactions take when they begin. Writing an entry does no file I/O
once the key is loaded (once per process).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wangge.core import crypto
from wangge.core.context import current
from wangge.core.errors import WanggeError
from wangge.core.models import AuditEntry
from wangge.core.scope import Scope, as_scope
from wangge.env import ConfigError

log = logging.getLogger(__name__)

GENESIS = "0" * 64
LEGACY_SCHEME = "sha256"
_SCHEMES = {"HMAC-SHA256": "hmac-sha256", "HMAC-SM3": "hmac-sm3"}
# Domain separation: an entry's MAC can never pass for a checkpoint's, or the other way round.
_ENTRY = b"wangge.audit.entry"
_CHECKPOINT = b"wangge.audit.checkpoint"
_ADVISORY_LOCK_KEY = 7_415_002  # arbitrary, constant: "the audit chain"
# A broken link is called a reordering when the hash it points to is elsewhere in the chain;
# `hash` has no index, so only this many broken links are looked up (more are "edited").
_REORDER_LOOKUPS = 50


class ChainBroken(WanggeError):
    code = "audit_chain_broken"
    status = 409
    default_message = gettext_lazy("The audit log is broken.")


# The key ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditKey:
    algorithm: str
    secret: bytes = field(repr=False)
    legacy_until: int

    @property
    def scheme(self) -> str:
        return _SCHEMES[self.algorithm]

    def mac(self, context: bytes, message: bytes) -> str:
        data = context + b"\x00" + message
        if self.algorithm == "HMAC-SM3":
            mac = crypto_hmac.HMAC(self.secret, hashes.SM3())
            mac.update(data)
            return mac.finalize().hex()
        return hmac.new(self.secret, data, hashlib.sha256).hexdigest()


def audit_key_path() -> Path:
    configured = getattr(settings, "AUDIT_KEY_FILE", "")
    return Path(configured) if configured else Path(settings.DATA_DIR) / "keys" / "audit.json"


def checkpoint_file_path() -> Path:
    configured = getattr(settings, "AUDIT_CHECKPOINT_FILE", "")
    return (
        Path(configured) if configured else Path(settings.DATA_DIR) / "audit" / "checkpoints.jsonl"
    )


_keys_lock = threading.Lock()
_keys: dict[str, AuditKey] = {}


def _load_key(path: Path) -> AuditKey | None:
    """The audit key in `path` (read once per process), or None when there is no such file."""
    cached = _keys.get(str(path))
    if cached is not None:
        return cached
    try:
        doc = json.loads(path.read_text())
        key = AuditKey(
            algorithm=doc["algorithm"],
            secret=base64.b64decode(doc["key"], validate=True),
            legacy_until=int(doc["legacy_until"]),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"audit key file {path} cannot be used: {exc}") from None
    if key.algorithm not in _SCHEMES or len(key.secret) < 32:
        raise ConfigError(f"audit key file {path}: not a 32-byte HMAC-SHA256/HMAC-SM3 key")
    with _keys_lock:
        _keys[str(path)] = key
    return key


def dangerously_discard_audit_files() -> None:
    """Delete the audit key and the checkpoints, for a database that was just thrown away
    (`wangge demo --reset`): they describe its log, and a new log starts with new ones (else
    verify would report the old log's entries as cut). Never on a database that is kept."""
    for path in (audit_key_path(), checkpoint_file_path()):
        path.unlink(missing_ok=True)
    with _keys_lock:
        _keys.clear()


def _key_for_writing(head: tuple[int, str, str] | None) -> AuditKey:
    """The audit key, made now if there is none. Called with the chain locked, so the head
    (seq, hash, scheme) is the last entry that will ever be unkeyed."""
    path = audit_key_path()
    key = _load_key(path)
    if key is not None:
        return key
    if head is not None and head[2] != LEGACY_SCHEME:
        # A new key would make every keyed entry look forged, and hide that the key was lost.
        raise ConfigError(
            f"audit key file {path} is missing but the audit log is keyed: restore the file "
            "from its backup (or point WANGGE_AUDIT_KEY_FILE at it)"
        )
    doc = {
        "version": 1,
        "algorithm": crypto.PROFILES[settings.CRYPTO_PROFILE][1],
        "key": base64.b64encode(secrets.token_bytes(32)).decode(),
        "legacy_until": head[0] if head else 0,
    }
    # Another process may have made it between our look and our write: then use theirs.
    with contextlib.suppress(FileExistsError):
        crypto.write_key_file(path, doc, create=True)
    key = _load_key(path)
    if key is None:
        raise ConfigError(f"audit key file {path} vanished as it was made")
    return key


def _lock_chain() -> None:
    """Serialise chain writers until the transaction ends (call inside one). On SQLite the
    IMMEDIATE transaction already holds the database's write lock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])


def _head() -> tuple[int, str, str] | None:
    row = AuditEntry.objects.order_by("-seq").values_list("seq", "hash", "scheme").first()
    return (int(row[0]), str(row[1]), str(row[2])) if row else None


# Entries ------------------------------------------------------------------------------------


def _dumps(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _payload(entry: AuditEntry) -> dict[str, Any]:
    # Unchanged since the first release: unkeyed entries hash exactly this.
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


def _legacy_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(_dumps(_payload(entry))).hexdigest()


def _keyed_hash(entry: AuditEntry, key: AuditKey) -> str:
    return key.mac(_ENTRY, _dumps({**_payload(entry), "scheme": entry.scheme}))


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
    """Append one entry. Call it inside the service's transaction so both commit or neither.
    Raises ConfigError when the log is keyed and the audit key file is missing."""
    scope: Scope = as_scope(actor)
    with transaction.atomic():
        _lock_chain()
        head = _head()
        key = _key_for_writing(head)
        seq, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS)
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
            scheme=key.scheme,
        )
        entry.hash = _keyed_hash(entry, key)
        entry.save(force_insert=True)
    return entry


# Checkpoints --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: str


@dataclass(frozen=True)
class CheckpointResult:
    checkpoint: Checkpoint | None  # None: the log is empty
    written: bool


def _checkpoint_message(checkpoint: Checkpoint) -> bytes:
    doc = {"seq": checkpoint.seq, "hash": checkpoint.hash, "at": checkpoint.at}
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def _parse_checkpoint(line: str, key: AuditKey) -> Checkpoint | None:
    """The checkpoint on one line of the file, or None unless it carries our signature."""
    try:
        doc = json.loads(line)
        checkpoint = Checkpoint(seq=doc["seq"], hash=doc["hash"], at=doc["at"])
        mac = doc["mac"]
    except (ValueError, KeyError, TypeError):
        return None
    if not (
        isinstance(checkpoint.seq, int)
        and isinstance(checkpoint.hash, str)
        and isinstance(checkpoint.at, str)
        and isinstance(mac, str)
    ):
        return None
    expected = key.mac(_CHECKPOINT, _checkpoint_message(checkpoint))
    return checkpoint if hmac.compare_digest(expected, mac) else None


def _last_line(fd: int) -> str:
    size = os.fstat(fd).st_size
    tail = os.pread(fd, 8192, max(0, size - 8192)).decode(errors="replace")
    lines = [line for line in tail.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def audit_checkpoint() -> CheckpointResult:
    """Append a signed checkpoint of the chain's head to the checkpoint file (0600, in a 0700
    directory). Running it again with no new entries writes nothing, and two at once append
    one line (the file is locked). Not audited itself: an entry per checkpoint would move the
    head every time. Raises ChainBroken, writing nothing, when the log no longer holds the last
    checkpoint's entry (cut or rewritten): a cut log is never signed."""
    if _head() is None:
        return CheckpointResult(None, False)  # and no file: nothing to anchor yet
    key = _load_key(audit_key_path())
    if key is None:  # an upgraded installation, no entry written since: key it now
        with transaction.atomic():
            _lock_chain()
            key = _key_for_writing(_head())
    path = checkpoint_file_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        # The head is read under the file lock, so checkpoints never go backwards.
        head = _head()
        last = _parse_checkpoint(_last_line(fd), key)
        if last is not None:
            if head is not None and (last.seq, last.hash) == head[:2]:
                return CheckpointResult(last, False)
            if not AuditEntry.objects.filter(seq=last.seq, hash=last.hash).exists():
                raise ChainBroken(
                    _(
                        "The audit log no longer matches its last checkpoint (#%(seq)d): it "
                        "was cut or rewritten. Run `wangge audit verify` to see how; no "
                        "checkpoint was written."
                    )
                    % {"seq": last.seq}
                )
        if head is None:
            return CheckpointResult(None, False)
        checkpoint = Checkpoint(
            seq=head[0],
            hash=head[1],
            at=timezone.now().astimezone(UTC).isoformat(timespec="seconds"),
        )
        mac = key.mac(_CHECKPOINT, _checkpoint_message(checkpoint))
        line = json.dumps(
            {"seq": checkpoint.seq, "hash": checkpoint.hash, "at": checkpoint.at, "mac": mac}
        )
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return CheckpointResult(checkpoint, True)


def checkpoint_periodic(**_kw: Any) -> None:
    """The worker's periodic checkpoint. A refusal is logged, and repeats every run until
    someone has looked at the log."""
    try:
        audit_checkpoint()
    except ChainBroken as exc:
        log.error("audit checkpoint refused: %s", exc.message)


# Verification -------------------------------------------------------------------------------

_CHAIN_MESSAGES = {
    "edited": gettext_lazy(
        "%(entries)s: edited (the content or the link to the previous entry does not match "
        "the hash)"
    ),
    "deleted": gettext_lazy("%(entries)s: deleted (missing from the sequence)"),
    "reordered": gettext_lazy("%(entries)s: reordered (linked to an entry elsewhere in the chain)"),
    "downgraded": gettext_lazy(
        "%(entries)s: unkeyed although the chain was already keyed (downgraded to plain SHA-256)"
    ),
}


@dataclass(frozen=True)
class ChainProblem:
    """One finding. `kind`: edited, deleted, reordered, downgraded (entries `seq`…`last_seq`),
    key_missing, checkpoint_forged, checkpoint_mismatch, tail_cut (`checkpoint` = the line of
    the checkpoint file, from 1)."""

    kind: str
    seq: int
    last_seq: int
    message: str
    checkpoint: int = 0


@dataclass(frozen=True)
class AuditReport:
    entries: int
    head: int
    checkpoints: int  # valid ones
    last_checkpoint: Checkpoint | None
    problems: list[ChainProblem]


def _entries_label(first: int, last: int) -> str:
    return f"#{first}" if first == last else f"#{first}–#{last}"


def _chain_problem(kind: str, first: int, last: int) -> ChainProblem:
    message = str(_CHAIN_MESSAGES[kind]) % {"entries": _entries_label(first, last)}
    return ChainProblem(kind, first, last, message)


def _flag(problems: list[ChainProblem], kind: str, first: int, last: int) -> None:
    """Add a chain problem, merged with the previous one when it continues it (an attacker's
    rewrite from some entry to the head is one finding, not thousands)."""
    if problems and problems[-1].kind == kind and problems[-1].last_seq == first - 1:
        problems[-1] = _chain_problem(kind, problems[-1].seq, last)
    else:
        problems.append(_chain_problem(kind, first, last))


def _read_checkpoints(key: AuditKey) -> tuple[list[tuple[int, Checkpoint]], list[ChainProblem]]:
    """(line, checkpoint) for every validly signed line, and a problem for every other line."""
    try:
        text = checkpoint_file_path().read_text()
    except FileNotFoundError:
        return [], []
    valid: list[tuple[int, Checkpoint]] = []
    forged: list[ChainProblem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        checkpoint = _parse_checkpoint(line, key)
        if checkpoint is None:
            message = _(
                "Checkpoint %(line)d is forged or was edited: its signature is not valid."
            ) % {"line": number}
            forged.append(ChainProblem("checkpoint_forged", 0, 0, message, number))
        else:
            valid.append((number, checkpoint))
    return valid, forged


def audit_verify(*, batch: int = 5000) -> AuditReport:
    """Walk the whole chain and check every checkpoint; no problems means intact. Reads only."""
    path = audit_key_path()
    try:
        key = _load_key(path)
    except ConfigError:
        key = None
    checkpoints: list[tuple[int, Checkpoint]] = []
    problems: list[ChainProblem] = []
    checkpoint_problems: list[ChainProblem] = []
    if key is not None:
        checkpoints, checkpoint_problems = _read_checkpoints(key)
    wanted: dict[int, list[tuple[int, Checkpoint]]] = {}
    for number, checkpoint in checkpoints:
        wanted.setdefault(checkpoint.seq, []).append((number, checkpoint))

    expected_seq, prev_hash, keyed_seen, lookups, checked = 1, GENESIS, False, 0, 0
    for entry in _iter_entries(batch):
        checked += 1
        if entry.seq > expected_seq:
            _flag(problems, "deleted", expected_seq, entry.seq - 1)
            linked = True  # the link is broken by the gap, reported as such
        else:
            linked = entry.prev_hash == prev_hash
        if entry.scheme == LEGACY_SCHEME:
            downgraded = keyed_seen or (key is not None and entry.seq > key.legacy_until)
            intact = _legacy_hash(entry) == entry.hash
        else:
            keyed_seen, downgraded = True, False
            # Without the key a keyed hash cannot be checked; that is reported once, below.
            intact = key is None or (
                entry.scheme == key.scheme
                and hmac.compare_digest(_keyed_hash(entry, key), entry.hash)
            )
        reordered = False
        if not linked and lookups < _REORDER_LOOKUPS:
            lookups += 1
            reordered = AuditEntry.objects.filter(hash=entry.prev_hash).exists()
        if reordered:
            _flag(problems, "reordered", entry.seq, entry.seq)
        elif downgraded:
            _flag(problems, "downgraded", entry.seq, entry.seq)
        elif not (linked and intact):
            _flag(problems, "edited", entry.seq, entry.seq)
        for number, checkpoint in wanted.pop(entry.seq, []):
            if checkpoint.hash != entry.hash:
                checkpoint_problems.append(_mismatch(number, checkpoint))
        expected_seq, prev_hash = entry.seq + 1, entry.hash
    head = expected_seq - 1 if checked else 0

    if key is None and (keyed_seen or checkpoint_file_path().exists()):
        message = _(
            "The audit key file %(path)s is missing or cannot be read: keyed entries and "
            "checkpoints cannot be checked."
        ) % {"path": path}
        problems.insert(0, ChainProblem("key_missing", 0, 0, message))
    # Checkpoints of entries the walk did not meet: deleted from the middle, or cut off the end.
    beyond = []
    for seq, found in sorted(wanted.items()):
        for number, checkpoint in found:
            if seq > head:
                beyond.append((number, checkpoint))
            else:
                checkpoint_problems.append(_mismatch(number, checkpoint))
    checkpoint_problems.sort(key=lambda p: p.checkpoint)
    if beyond:
        number, checkpoint = max(beyond, key=lambda item: item[1].seq)
        message = _(
            "Tail cut: the log ends at #%(head)d, but checkpoint %(line)d (%(at)s) recorded "
            "#%(seq)d; entries %(entries)s are gone."
        ) % {
            "head": head,
            "line": number,
            "at": checkpoint.at,
            "seq": checkpoint.seq,
            "entries": _entries_label(head + 1, checkpoint.seq),
        }
        checkpoint_problems.append(
            ChainProblem("tail_cut", head + 1, checkpoint.seq, message, number)
        )
    return AuditReport(
        entries=checked,
        head=head,
        checkpoints=len(checkpoints),
        last_checkpoint=checkpoints[-1][1] if checkpoints else None,
        problems=problems + checkpoint_problems,
    )


def _mismatch(number: int, checkpoint: Checkpoint) -> ChainProblem:
    message = _(
        "Checkpoint %(line)d (%(at)s) does not match entry #%(seq)d: the log was rewritten or "
        "the entry deleted up to there."
    ) % {"line": number, "at": checkpoint.at, "seq": checkpoint.seq}
    return ChainProblem("checkpoint_mismatch", checkpoint.seq, checkpoint.seq, message, number)


def _iter_entries(batch: int) -> Iterator[AuditEntry]:
    last = 0
    while True:
        rows = list(AuditEntry.objects.filter(seq__gt=last).order_by("seq")[:batch])
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
