"""Backups and restore (`wangge backup`, `wangge restore`), known to work because restore
checks what it restored.

A backup directory holds the database (`database.sqlite3`, made with SQLite's online backup
API, consistent while the server runs; or `database.dump`, `pg_dump -Fc` of an exported
snapshot), the uploaded files of every registered file store (`files/<store>/…`: event
photos, queued imports' uploads) and `manifest.json`, written last: the format version, the
time, the database vendor, every table's row count *in that snapshot*, the applied migrations,
the audit log's head, fingerprints of the keys the data needs, and every file with its size and
SHA-256. A directory without a manifest is an interrupted backup.

Keys are never in it: the personal-data key file, the audit key, the audit checkpoints and the
secret key go to a second directory (`--keys-out`, meant for other media) with a manifest of
their own, or the operator is told which files to copy. A stolen database backup then reveals
no ID number or phone, and someone who can change the backups cannot also re-sign the audit
log. The checkpoints are copied *before* the database snapshot, so none of them names an entry
the snapshot lacks.

Restore refuses, before touching anything, a backup whose manifest is missing or whose files
do not match it, a backup of the other vendor or of a newer wangge, keys that are not the
backup's, and a target that is not empty (unless `force`, which first moves what is there
aside). Afterwards it compares every table's row count with the manifest, decrypts a sample of
every encrypted column, writes its audit entry into the restored log and verifies the chain.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wangge.core import audit, crypto
from wangge.core.audit import audit_key_path, audit_record, audit_verify, checkpoint_file_path
from wangge.core.errors import WanggeError
from wangge.env import ConfigError

FORMAT = "wangge-backup"
KEYS_FORMAT = "wangge-keys"
VERSION = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.dump"
_CHUNK = 1 << 20


class BackupRefused(WanggeError):
    code = "backup_refused"
    status = 400
    default_message = gettext_lazy("The backup or restore was refused.")


# File stores: directories of uploaded files that belong with the database -------------------

_stores: dict[str, Callable[[], Path]] = {}


def register_file_store(label: str, directory: Callable[[], Path]) -> None:
    """Modules name the directories whose files the database refers to (event photos …);
    backups carry them and restores put them back."""
    _stores[label] = directory


def file_stores() -> dict[str, Path]:
    return {label: directory() for label, directory in sorted(_stores.items())}


# Keys: what is backed up separately ---------------------------------------------------------


def key_files() -> dict[str, Path]:
    """role → the file to keep on separate media: the personal-data keys, the audit key, the
    audit checkpoints, and the secret key when it is a file (not WANGGE_SECRET_KEY)."""
    files = {
        "personal_data": crypto.key_file_path(),
        "audit": audit_key_path(),
        "checkpoints": checkpoint_file_path(),
    }
    if not os.environ.get("WANGGE_SECRET_KEY"):
        files["secret_key"] = Path(settings.DATA_DIR) / "secret_key"
    return files


_KEY_NAMES = {
    "personal_data": "personal-data.json",
    "audit": "audit.json",
    "checkpoints": "checkpoints.jsonl",
    "secret_key": "secret_key",
}


def _fingerprint(secret: str) -> str:
    """Names a key without giving it away (a truncated hash of 256 random bits)."""
    digest = hashlib.sha256(b"wangge.backup.key-fingerprint\x00" + base64.b64decode(secret))
    return digest.hexdigest()[:16]


def _key_fingerprints(personal: Path, audit_file: Path) -> dict[str, Any]:
    """The fingerprints of the keys in these files (None for a file that is not there)."""
    found: dict[str, Any] = {"personal_data": None, "audit": None}
    try:
        doc = json.loads(personal.read_text())
        found["personal_data"] = {
            "keys": {k: _fingerprint(v["key"]) for k, v in doc["keys"].items()},
            "mac": _fingerprint(doc["mac_key"]),
        }
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, TypeError) as exc:
        message = _("The key file %(path)s cannot be read: %(e)s") % _pe(personal, exc)
        raise BackupRefused(message) from None
    try:
        found["audit"] = _fingerprint(json.loads(audit_file.read_text())["key"])
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, TypeError) as exc:
        message = _("The key file %(path)s cannot be read: %(e)s") % _pe(audit_file, exc)
        raise BackupRefused(message) from None
    return found


def _pe(path: Path, exc: Exception) -> dict[str, str]:
    return {"path": str(path), "e": str(exc)}


# Small helpers ------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _copy(source: Path, target: Path) -> dict[str, Any]:
    """Copy a file readable by its owner only; its size and SHA-256."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    digest, size = hashlib.sha256(), 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with source.open("rb") as src, os.fdopen(fd, "wb") as dst:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    return {"size": size, "sha256": digest.hexdigest()}


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    """Written whole or not at all (the manifest's presence says the backup is complete)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(doc, handle, ensure_ascii=False, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _new_directory(path: Path, what: str) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise BackupRefused(
            _("%(what)s %(path)s exists and is not empty: give a new directory.")
            % {"what": what, "path": path}
        )
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)


def _inside(path: Path, parent: Path) -> bool:
    path, parent = path.resolve(), parent.resolve()
    return path == parent or parent in path.parents


def _stamp() -> str:
    return timezone.now().strftime("%Y%m%dT%H%M%S")


def _store_files(directory: Path) -> Iterator[Path]:
    if not directory.exists():
        return
    for path in sorted(directory.rglob("*")):
        if path.is_file() and not path.name.endswith(".tmp"):
            yield path


def _applied_migrations() -> dict[str, list[str]]:
    from django.db.migrations.recorder import MigrationRecorder

    applied: dict[str, list[str]] = {}
    for app, name in sorted(MigrationRecorder(connection).applied_migrations()):
        applied.setdefault(app, []).append(name)
    return applied


def _audit_head() -> dict[str, Any]:
    from wangge.core.models import AuditEntry

    row = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
    return {"seq": row[0], "hash": row[1]} if row else {"seq": 0, "hash": ""}


# The database: SQLite ------------------------------------------------------------------------


def _sqlite_tables(db: sqlite3.Connection) -> dict[str, int]:
    names = [
        row[0]
        for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    return {
        name: db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]  # noqa: S608 - names from sqlite_master
        for name in names
    }


def _sqlite_dump(target: Path) -> dict[str, int]:
    """Copy the database with SQLite's online backup API, from a connection of its own (one
    step: a consistent snapshot even while the server writes); the row counts are the copy's."""
    name = str(connection.settings_dict["NAME"])
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    if name == ":memory:" or "mode=memory" in name:
        # An in-memory database (the test suite's) has no file for a second connection, and
        # the backup API cannot read a database while its own connection is writing to it
        # (a test's transaction): serialize() copies its pages instead.
        connection.ensure_connection()
        target.write_bytes(connection.connection.serialize())
        copy = sqlite3.connect(target)
    else:
        copy = sqlite3.connect(target)
        source = sqlite3.connect(name)
        try:
            source.backup(copy, pages=-1)
        finally:
            source.close()
    try:
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        return _sqlite_tables(copy)
    finally:
        copy.close()


def _sqlite_restore(source: Path, *, force: bool) -> None:
    name = Path(str(connection.settings_dict["NAME"]))
    connection.close()
    if force and name.exists():
        aside = name.with_name(f"{name.name}.before-restore-{_stamp()}")
        old = sqlite3.connect(name)
        keep = sqlite3.connect(aside)
        try:
            old.backup(keep)
        finally:
            keep.close()
            old.close()
        aside.chmod(0o600)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{name}{suffix}").unlink(missing_ok=True)
    os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    src, dst = sqlite3.connect(f"file:{source}?mode=ro", uri=True), sqlite3.connect(name)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


# The database: PostgreSQL --------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupRefused(
            _(
                "%(tool)s was not found on PATH: install the PostgreSQL client tools of the "
                "server's major version or newer (e.g. the postgresql-client package)."
            )
            % {"tool": name}
        )
    return found


def _pg_env() -> dict[str, str]:
    """The connection as libpq's environment (the password never on a command line)."""
    s = connection.settings_dict
    env = dict(os.environ)
    for variable, key in (
        ("PGDATABASE", "NAME"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
    ):
        if s.get(key):
            env[variable] = str(s[key])
    return env


def _pg_connect() -> Any:
    import psycopg

    s = connection.settings_dict
    names = {
        "dbname": "NAME",
        "user": "USER",
        "password": "PASSWORD",
        "host": "HOST",
        "port": "PORT",
    }
    conninfo = psycopg.conninfo.make_conninfo(
        "", **{param: str(s[key]) for param, key in names.items() if s.get(key)}
    )
    return psycopg.connect(conninfo, autocommit=True)


def _pg_tables(cursor: Any) -> dict[str, int]:
    cursor.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
        "AND table_type = 'BASE TABLE' ORDER BY table_name"
    )
    names = [row[0] for row in cursor.fetchall()]
    counts = {}
    for name in names:
        cursor.execute(f'SELECT count(*) FROM "{name}"')  # noqa: S608 - names from the catalogue
        counts[name] = cursor.fetchone()[0]
    return counts


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(  # noqa: S603 - our own arguments, no shell
        command, env=_pg_env(), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise BackupRefused(
            _("%(what)s failed (exit status %(rc)d): %(err)s")
            % {"what": what, "rc": done.returncode, "err": tail}
        )


def _pg_dump(target: Path) -> dict[str, int]:
    """pg_dump of a snapshot this function holds open, and the row counts of that snapshot:
    the manifest counts exactly what the dump holds, however busy the server is."""
    tool = _pg_tool("pg_dump")
    with _pg_connect() as db, db.cursor() as cursor:
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        counts = _pg_tables(cursor)
        try:
            _run([tool, "-Fc", f"--snapshot={snapshot}", "-f", str(target)], "pg_dump")
        finally:
            cursor.execute("ROLLBACK")
    target.chmod(0o600)
    return counts


def _pg_restore(source: Path, *, force: bool) -> None:
    tool = _pg_tool("pg_restore")
    connection.close()
    command = [tool, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    if force:
        # DROP, not DELETE or TRUNCATE: the audit log's triggers refuse those.
        command += ["--clean", "--if-exists"]
    _run([*command, "-d", str(connection.settings_dict["NAME"]), str(source)], "pg_restore")


def _target_counts() -> dict[str, int]:
    if connection.vendor == "postgresql":
        with _pg_connect() as db, db.cursor() as cursor:
            return _pg_tables(cursor)
    connection.ensure_connection()
    return _sqlite_tables(connection.connection)


# Backup -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupResult:
    out: Path
    manifest: dict[str, Any]
    keys_out: Path | None
    key_files: dict[str, Path]  # role → the file to copy to separate media (when no keys_out)


def backup_create(*, actor: Any, out: Path, keys_out: Path | None = None) -> BackupResult:
    """Back up the database and the file stores into `out` (a new or empty directory), and the
    keys into `keys_out` (likewise; never inside `out`). Audited after it is complete, with the
    manifest's SHA-256; a refusal or failure is audited too."""
    try:
        result = _backup(out=out, keys_out=keys_out)
    except (BackupRefused, OSError, DatabaseError) as exc:
        audit_record(
            actor=actor,
            action="backup.create",
            object_type="backup",
            outcome="failure",
            details={"error": getattr(exc, "code", type(exc).__name__)},
        )
        if isinstance(exc, BackupRefused):
            raise
        raise BackupRefused(_("The backup failed: %(e)s") % {"e": exc}) from exc
    manifest = result.manifest
    audit_record(
        actor=actor,
        action="backup.create",
        object_type="backup",
        object_id=manifest["created_at"],
        details={
            "vendor": manifest["database"]["vendor"],
            "tables": len(manifest["tables"]),
            "rows": sum(manifest["tables"].values()),
            "files": len(manifest["files"]),
            "audit_head": manifest["audit"]["seq"],
            "manifest_sha256": _sha256(out / MANIFEST),
            "keys_out": keys_out is not None,
        },
    )
    return result


def _backup(*, out: Path, keys_out: Path | None) -> BackupResult:
    if keys_out is not None and (_inside(keys_out, out) or _inside(out, keys_out)):
        raise BackupRefused(
            _("The keys must not go into the backup directory: give --keys-out elsewhere.")
        )
    if _inside(out, Path(settings.DATA_DIR)):
        raise BackupRefused(_("The backup must not go into the data directory."))
    _new_directory(out, _("The backup directory"))
    keys = key_files()
    fingerprints = _key_fingerprints(keys["personal_data"], keys["audit"])
    if keys_out is not None:
        # Before the snapshot: a checkpoint copied now names no entry the snapshot lacks.
        _keys_backup(keys_out, keys)
    created_at = timezone.now().isoformat(timespec="seconds")
    vendor = connection.vendor
    database_file = out / (PG_FILE if vendor == "postgresql" else SQLITE_FILE)
    migrations, head = _applied_migrations(), _audit_head()
    counts = _pg_dump(database_file) if vendor == "postgresql" else _sqlite_dump(database_file)
    files = []
    for label, directory in file_stores().items():
        for path in _store_files(directory):
            relative = path.relative_to(directory).as_posix()
            copied = _copy(path, out / "files" / label / relative)
            files.append({"store": label, "path": relative, **copied})
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "created_at": created_at,
        "wangge_version": _wangge_version(),
        "database": {
            "vendor": vendor,
            "file": database_file.name,
            "size": database_file.stat().st_size,
            "sha256": _sha256(database_file),
        },
        "tables": counts,
        "migrations": migrations,
        # The head before the dump: the snapshot holds at least this (a checkpoint names no more).
        "audit": head,
        "keys": fingerprints,
        "files": files,
    }
    _write_json(out / MANIFEST, manifest)
    return BackupResult(out, manifest, keys_out, keys)


def _keys_backup(keys_out: Path, keys: dict[str, Path]) -> None:
    _new_directory(keys_out, _("The keys directory"))
    listed = []
    for role, path in keys.items():
        if path.exists():
            copied = _copy(path, keys_out / _KEY_NAMES[role])
            listed.append({"role": role, "name": _KEY_NAMES[role], **copied})
    doc = {
        "format": KEYS_FORMAT,
        "version": VERSION,
        "created_at": timezone.now().isoformat(timespec="seconds"),
        "files": listed,
    }
    _write_json(keys_out / MANIFEST, doc)


def _wangge_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("wangge")
    except PackageNotFoundError:
        return ""


# Verify and restore -------------------------------------------------------------------------


def _read_manifest(directory: Path, expected: str) -> dict[str, Any]:
    path = directory / MANIFEST
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise BackupRefused(
            _(
                "%(path)s is missing: %(dir)s is not a wangge backup, or the backup was "
                "interrupted before it finished."
            )
            % {"path": path, "dir": directory}
        ) from None
    except (OSError, ValueError) as exc:
        raise BackupRefused(_("%(path)s is damaged: %(e)s") % {"path": path, "e": exc}) from None
    if not isinstance(doc, dict) or doc.get("format") != expected:
        raise BackupRefused(
            _("%(path)s is not a %(what)s manifest.") % {"path": path, "what": expected}
        )
    if doc.get("version") != VERSION:
        raise BackupRefused(
            _("%(path)s has format version %(v)s; this wangge reads version %(mine)d.")
            % {"path": path, "v": doc.get("version"), "mine": VERSION}
        )
    return doc


def _check_file(path: Path, size: Any, sha256: Any, problems: list[str]) -> None:
    if not path.is_file():
        problems.append(_("%(path)s is missing") % {"path": path})
    elif path.stat().st_size != size or _sha256(path) != sha256:
        problems.append(_("%(path)s is damaged (its size or SHA-256 differs)") % {"path": path})


def _refuse_problems(directory: Path, problems: list[str]) -> None:
    if problems:
        shown = "; ".join(problems[:5])
        more = len(problems) - 5
        if more > 0:
            shown += _(" (and %(n)d more)") % {"n": more}
        raise BackupRefused(
            _("The backup in %(dir)s is damaged or incomplete, nothing was restored: %(problems)s")
            % {"dir": directory, "problems": shown}
        )


def backup_verify(source: Path) -> dict[str, Any]:
    """The manifest of the backup in `source` after checking every file against it (reads
    only); BackupRefused naming what is missing or damaged."""
    manifest = _read_manifest(source, FORMAT)
    problems: list[str] = []
    try:
        database = manifest["database"]
        if database["file"] not in {SQLITE_FILE, PG_FILE}:
            raise ValueError(database["file"])
        _check_file(source / database["file"], database["size"], database["sha256"], problems)
        for entry in manifest["files"]:
            relative = Path(entry["path"])
            if relative.is_absolute() or ".." in relative.parts or entry["store"] not in _stores:
                problems.append(_("%(path)s is not a file this wangge stores") % {"path": relative})
                continue
            target = source / "files" / entry["store"] / relative
            _check_file(target, entry["size"], entry["sha256"], problems)
        if not isinstance(manifest["tables"], dict) or not manifest["tables"]:
            problems.append(_("the manifest lists no tables"))
    except (KeyError, TypeError, ValueError):
        raise BackupRefused(
            _("%(path)s is damaged: a field is missing or wrong.") % {"path": source / MANIFEST}
        ) from None
    _refuse_problems(source, problems)
    return manifest


@dataclass(frozen=True)
class RestoreResult:
    manifest: dict[str, Any]
    tables: int
    rows: int
    files: int
    keys_placed: list[str]
    moved_aside: list[Path]
    columns_decrypted: int
    unapplied_migrations: list[str]
    audit_problems: list[str] = field(default_factory=list)


def _target_empty() -> tuple[bool, list[str]]:
    """Whether the database has no tables and the file stores no files; what is there."""
    found = []
    tables = connection.introspection.table_names()
    if tables:
        found.append(_("the database has %(n)d tables") % {"n": len(tables)})
    for directory in file_stores().values():
        if any(True for _path in _store_files(directory)):
            found.append(_("%(dir)s holds files") % {"dir": directory})
    return not found, found


def _check_keys(manifest: dict[str, Any], keys: Path | None) -> dict[str, Path]:
    """The key files that will be in place after the restore (from the keys backup when given,
    else the installation's own), checked to be the backup's. role → the file to copy in."""
    targets = key_files()
    incoming: dict[str, Path] = {}
    if keys is not None:
        doc = _read_manifest(keys, KEYS_FORMAT)
        problems: list[str] = []
        for entry in doc.get("files", []):
            role, path = entry.get("role"), keys / str(entry.get("name", ""))
            if role not in _KEY_NAMES:
                continue
            _check_file(path, entry.get("size"), entry.get("sha256"), problems)
            incoming[role] = path
        _refuse_problems(keys, problems)
    personal = incoming.get("personal_data", targets["personal_data"])
    audit_file = incoming.get("audit", targets["audit"])
    have = _key_fingerprints(personal, audit_file)
    want = manifest["keys"]
    hint = _(
        "restore the key files from the keys backup made with the database's (`wangge restore "
        "DIR --keys KEYDIR`, or copy them to %(files)s)"
    ) % {"files": ", ".join(str(targets[r]) for r in ("personal_data", "audit"))}
    if want.get("personal_data"):
        mine = have["personal_data"] or {"keys": {}, "mac": None}
        wrong = [k for k, fp in want["personal_data"]["keys"].items() if mine["keys"].get(k) != fp]
        if wrong or mine["mac"] != want["personal_data"]["mac"]:
            raise BackupRefused(
                _("The personal-data key file %(path)s is not this backup's: %(hint)s.")
                % {"path": personal, "hint": hint}
            )
    if want.get("audit") and have["audit"] != want["audit"]:
        raise BackupRefused(
            _("The audit key file %(path)s is not this backup's: %(hint)s.")
            % {"path": audit, "hint": hint}
        )
    return incoming


def _place_keys(incoming: dict[str, Path], *, force: bool) -> tuple[list[str], list[Path]]:
    """Copy the keys backup's files into place. A different file already there is moved
    aside (never overwritten): only with `force`, except the secret key, which the settings
    make on first start (so a fresh installation always has one of its own)."""
    targets = key_files()
    placed, aside = [], []
    for role, source in incoming.items():
        target = targets.get(role)
        if target is None:
            continue
        if target.exists():
            if _sha256(target) == _sha256(source):
                continue
            if not force and role != "secret_key":
                raise BackupRefused(
                    _(
                        "%(path)s exists and differs from the keys backup's: use --force to "
                        "move it aside and restore the backup's."
                    )
                    % {"path": target}
                )
            moved = target.with_name(f"{target.name}.before-restore-{_stamp()}")
            os.replace(target, moved)
            aside.append(moved)
        _copy(source, target)
        placed.append(role)
    return placed, aside


def _check_migrations(manifest: dict[str, Any]) -> None:
    from django.db.migrations.loader import MigrationLoader

    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    unknown = [
        f"{app}.{name}"
        for app, names in manifest["migrations"].items()
        for name in names
        if (app, name) not in known
    ]
    if unknown:
        raise BackupRefused(
            _(
                "The backup was made by a newer wangge (migrations this version does not "
                "have: %(names)s): install that version first."
            )
            % {"names": ", ".join(unknown[:5])}
        )


def backup_restore(
    *, actor: Any, source: Path, keys: Path | None = None, force: bool = False
) -> RestoreResult:
    try:
        return _restore(actor=actor, source=source, keys=keys, force=force)
    except BackupRefused as exc:
        _restore_refusal_audit(actor=actor, source=source, error=exc)
        raise


def _restore(*, actor: Any, source: Path, keys: Path | None, force: bool) -> RestoreResult:
    """Restore the backup in `source` into this installation's database and file stores (and
    the keys backup in `keys`). Everything is checked before anything is changed; the target
    must be empty unless `force` (then the SQLite file, the file stores and differing key files
    are moved aside, and PostgreSQL's objects are dropped and made again). Stop `wangge serve`
    and `wangge worker` first. Audited in the restored log."""
    manifest = backup_verify(source)
    vendor = manifest["database"]["vendor"]
    if vendor != connection.vendor:
        raise BackupRefused(
            _("This is a %(theirs)s backup; this installation uses %(mine)s.")
            % {"theirs": vendor, "mine": connection.vendor}
        )
    _check_migrations(manifest)
    incoming = _check_keys(manifest, keys)
    empty, found = _target_empty()
    if not empty and not force:
        raise BackupRefused(
            _(
                "The target is not empty (%(found)s): restore into an empty installation, or "
                "use --force to replace it."
            )
            % {"found": "; ".join(found)}
        )
    placed, aside = _place_keys(incoming, force=force)
    # Key files may have just been put in place: nothing read before may be used.
    crypto._ring.clear()
    audit._keys.clear()
    database_file = source / manifest["database"]["file"]
    if vendor == "postgresql":
        _pg_restore(database_file, force=force)
    else:
        _sqlite_restore(database_file, force=force)
    aside += _restore_files(source, manifest, force=force)
    counts = _target_counts()
    differ = [t for t, n in manifest["tables"].items() if counts.get(t) != n]
    if differ:
        raise BackupRefused(
            _(
                "The restored row counts differ from the backup's in %(tables)s: restore again "
                "with --force, or from another backup."
            )
            % {"tables": ", ".join(differ[:5])}
        )
    decrypted = _decrypt_samples()
    from wangge.core.health import probe_migrations

    unapplied = probe_migrations().details["unapplied"]
    audit_record(
        actor=actor,
        action="backup.restore",
        object_type="backup",
        object_id=manifest["created_at"],
        details={
            "vendor": vendor,
            "tables": len(counts),
            "rows": sum(manifest["tables"].values()),
            "files": len(manifest["files"]),
            "forced": force,
            "keys_placed": placed,
        },
    )
    report = audit_verify()
    return RestoreResult(
        manifest=manifest,
        tables=len(manifest["tables"]),
        rows=sum(manifest["tables"].values()),
        files=len(manifest["files"]),
        keys_placed=placed,
        moved_aside=aside,
        columns_decrypted=decrypted,
        unapplied_migrations=unapplied,
        audit_problems=[p.message for p in report.problems],
    )


def _restore_files(source: Path, manifest: dict[str, Any], *, force: bool) -> list[Path]:
    aside = []
    stores = file_stores()
    if force:
        for directory in stores.values():
            if any(True for _path in _store_files(directory)):
                moved = directory.with_name(f"{directory.name}.before-restore-{_stamp()}")
                os.replace(directory, moved)
                aside.append(moved)
                directory.mkdir(mode=0o700)
    for entry in manifest["files"]:
        target = stores[entry["store"]] / entry["path"]
        _copy(source / "files" / entry["store"] / entry["path"], target)
    return aside


def _decrypt_samples() -> int:
    """Decrypt the first value of every encrypted column with the keys now in place."""
    ring = crypto.keyring()
    samples = crypto.ciphertext_samples_unscoped()
    for label, context, token in samples:
        try:
            ring.decrypt(token, context=context)
        except Exception:  # InvalidTag, an unknown key: the keys are not the data's
            raise BackupRefused(
                _("The restored %(column)s does not decrypt with the key file in place.")
                % {"column": label}
            ) from None
    return len(samples)


def _restore_refusal_audit(*, actor: Any, source: Path, error: BackupRefused) -> None:
    """Audit a refused restore in the installation's own log, when it has one that can be
    written (a refused restore into an empty installation has no log, or no key, to write to)."""
    try:
        if "core_auditentry" not in connection.introspection.table_names():
            return
        audit_record(
            actor=actor,
            action="backup.restore",
            object_type="backup",
            outcome="failure",
            details={"error": error.code, "source": source.name},
        )
    except (DatabaseError, ConfigError):
        return
