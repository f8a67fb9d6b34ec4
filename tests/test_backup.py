"""`wangge backup` and `wangge restore`: a backup of the test world restored into an empty
installation (a new data directory, and on PostgreSQL a new database) holds the same rows,
its audit log verifies and its encrypted fields decrypt; a damaged, incomplete or foreign
backup, wrong keys and a non-empty target are refused before anything changes.

The restore runs as the operator runs it: `wangge restore` in its own process, with its own
data directory (and database), like `wangge audit verify` and a reveal after it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from wangge.core import backup, crypto
from wangge.core.audit import audit_checkpoint
from wangge.core.backup import BackupRefused, backup_create, backup_restore
from wangge.core.models import AuditEntry
from wangge.core.scope import Scope
from wangge.ledger.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """The messages these tests match, in the language they are written in."""
    from django.utils import translation

    with translation.override("en"):
        yield


SYSTEM = Scope.system("test-backup")
SECRET = "restore-drill-secret-key-0123456789abcdef"


def _env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    """A production process's environment: its own data directory (and database)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("WANGGE_", "PROMETHEUS_", "DJANGO_", "PYTEST_"))
    }
    env.update(
        WANGGE_DATA_DIR=str(data_dir),
        WANGGE_SECRET_KEY=SECRET,
        DJANGO_SETTINGS_MODULE="wangge.settings",
    )
    if database_url:
        env["WANGGE_DATABASE_URL"] = database_url
    return env


def _wangge(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wangge.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture
def target_database() -> Iterator[str | None]:
    """None on SQLite (the new data directory's file); on PostgreSQL a new, empty database,
    dropped afterwards."""
    if connection.vendor != "postgresql":
        yield None
        return
    import psycopg

    s = connection.settings_dict
    name = f"{s['NAME']}_restore"[:63]
    params = {"dbname": "postgres", "user": s["USER"], "host": s["HOST"], "port": s["PORT"]}
    if s.get("PASSWORD"):
        params["password"] = s["PASSWORD"]
    params = {k: str(v) for k, v in params.items() if v}
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    yield f"postgres://{s['USER']}{password}@{s['HOST']}:{s['PORT'] or 5432}/{name}"
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def photo_file() -> Iterator[Path]:
    """An uploaded file in a file store (the files of the world's events are its photos)."""
    from wangge.events.photos import photo_directory

    path = photo_directory() / "backup-test-photo"
    path.write_bytes(os.urandom(4096))
    yield path
    path.unlink(missing_ok=True)


def _a_person() -> Person:
    return Person.objects.dangerously_unscoped().exclude(id_number="").order_by("id")[0]


def test_backup_then_restore_into_an_empty_installation(
    tmp_path: Path, target_database: str | None, photo_file: Path
) -> None:
    # Given the test world, an uploaded file and a checkpoint of the audit log's head
    person = _a_person()
    original_id_number = person.id_number
    people = Person.objects.dangerously_unscoped().count()
    audit_checkpoint()
    entries_before = AuditEntry.objects.count()

    # When it is backed up, the keys elsewhere
    result = backup_create(actor=SYSTEM, out=tmp_path / "backup", keys_out=tmp_path / "keys")

    # Then the manifest counts the snapshot and lists the file; the keys are not in the backup
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest == result.manifest
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["tables"]["ledger_person"] == people
    assert manifest["tables"]["core_auditentry"] == entries_before
    listed = {(f["store"], f["path"]) for f in manifest["files"]}
    assert ("events.photos", photo_file.name) in listed
    backed_up = {p.name for p in (tmp_path / "backup").rglob("*")}
    assert not backed_up & {"personal-data.json", "audit.json", "checkpoints.jsonl"}
    assert {p.name for p in (tmp_path / "keys").iterdir()} >= {
        "personal-data.json",
        "audit.json",
        "checkpoints.jsonl",
        "manifest.json",
    }
    assert (
        crypto.key_file_path().read_bytes() == (tmp_path / "keys/personal-data.json").read_bytes()
    )
    # and the backup is audited, with its manifest's digest
    entry = AuditEntry.objects.order_by("-seq")[0]
    assert (entry.action, entry.outcome) == ("backup.create", "success")
    assert entry.details["manifest_sha256"] == backup._sha256(tmp_path / "backup/manifest.json")

    # When it is restored into an empty installation by `wangge restore`
    env = _env(tmp_path / "restored", target_database)
    done = _wangge(env, "restore", str(tmp_path / "backup"), "--keys", str(tmp_path / "keys"))
    assert done.returncode == 0, done.stdout + done.stderr

    # Then every table holds what the backup counted (and the log one entry more: the restore)
    counted = _wangge(
        env,
        "shell",
        "-c",
        "import json; from wangge.core import backup; print(json.dumps(backup._target_counts()))",
    )
    assert counted.returncode == 0, counted.stderr
    counts = json.loads(_last_line(counted.stdout))
    expected = {**manifest["tables"], "core_auditentry": entries_before + 1}
    assert counts == expected
    # the file is back, byte for byte
    restored_photo = tmp_path / "restored" / "photos" / photo_file.name
    assert restored_photo.read_bytes() == photo_file.read_bytes()
    # a person's ID number, revealed through the service, is the original
    reveal = _wangge(
        env,
        "shell",
        "-c",
        "from wangge.core.models import User; "
        "from wangge.ledger.services.people import person_reveal; "
        f"print(person_reveal(actor=User.objects.get(username='demo-district'), "
        f"person_id={person.pk}, field='id_number', reason='恢复演练'))",
    )
    assert reveal.returncode == 0, reveal.stderr
    assert _last_line(reveal.stdout) == original_id_number
    # and the audit log verifies, the restore and the reveal in it, the checkpoint honoured
    verified = _wangge(env, "audit", "verify", "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    report = json.loads(verified.stdout)
    assert report["ok"] is True
    assert report["entries"] == entries_before + 2
    assert report["checkpoints"] == 1

    # And the restored installation backs up in turn (on SQLite: the online backup API of a
    # database file, with `wangge backup` in its own process) into a third that verifies
    again = _wangge(
        env, "backup", "--out", str(tmp_path / "backup2"), "--keys-out", str(tmp_path / "keys2")
    )
    assert again.returncode == 0, again.stdout + again.stderr
    third = _env(tmp_path / "third", None) if target_database is None else None
    if third is not None:
        done = _wangge(
            third, "restore", str(tmp_path / "backup2"), "--keys", str(tmp_path / "keys2")
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert _wangge(third, "audit", "verify").returncode == 0


def _last_line(output: str) -> str:
    return output.strip().splitlines()[-1].strip()


def _backup(tmp_path: Path) -> Path:
    out = tmp_path / "backup"
    backup_create(actor=SYSTEM, out=out, keys_out=tmp_path / "keys")
    return out


def _refused(source: Path, match: str, **kw: Any) -> None:
    people = Person.objects.dangerously_unscoped().count()
    with pytest.raises(BackupRefused, match=match):
        backup_restore(actor=SYSTEM, source=source, **kw)
    assert Person.objects.dangerously_unscoped().count() == people


def test_a_directory_without_a_manifest_is_refused(tmp_path: Path) -> None:
    out = _backup(tmp_path)
    (out / "manifest.json").unlink()
    _refused(out, "manifest.json is missing")


def test_a_damaged_database_file_is_refused(tmp_path: Path) -> None:
    out = _backup(tmp_path)
    database = out / json.loads((out / "manifest.json").read_text())["database"]["file"]
    data = bytearray(database.read_bytes())
    data[len(data) // 2] ^= 0xFF
    database.write_bytes(bytes(data))
    _refused(out, "damaged or incomplete.*database")


def test_a_missing_file_is_refused(tmp_path: Path, photo_file: Path) -> None:
    out = _backup(tmp_path)
    (out / "files" / "events.photos" / photo_file.name).unlink()
    _refused(out, f"{photo_file.name} is missing")


def test_a_manifest_naming_a_path_outside_the_store_is_refused(tmp_path: Path) -> None:
    out = _backup(tmp_path)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"].append({"store": "events.photos", "path": "../../x", "size": 1, "sha256": ""})
    (out / "manifest.json").write_text(json.dumps(manifest))
    _refused(out, "not a file this wangge stores")


def test_keys_that_are_not_the_backups_are_refused(tmp_path: Path, settings: Any) -> None:
    out = _backup(tmp_path)
    settings.KEY_FILE = str(tmp_path / "other" / "personal-data.json")
    crypto._generate(Path(settings.KEY_FILE))
    try:
        _refused(out, "personal-data key file .* is not this backup's")
    finally:
        crypto._ring.clear()


def test_a_damaged_keys_backup_is_refused(tmp_path: Path) -> None:
    out = _backup(tmp_path)
    (tmp_path / "keys" / "audit.json").write_text("{}")
    _refused(out, "damaged or incomplete.*audit.json", keys=tmp_path / "keys")


def test_a_non_empty_target_is_refused_and_the_refusal_audited(tmp_path: Path) -> None:
    out = _backup(tmp_path)
    _refused(out, "The target is not empty")
    entry = AuditEntry.objects.order_by("-seq")[0]
    assert (entry.action, entry.outcome) == ("backup.restore", "failure")


def test_keys_inside_the_backup_and_a_used_directory_are_refused(tmp_path: Path) -> None:
    with pytest.raises(BackupRefused, match="must not go into the backup directory"):
        backup_create(actor=SYSTEM, out=tmp_path / "b", keys_out=tmp_path / "b" / "keys")
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x").write_text("x")
    with pytest.raises(BackupRefused, match="is not empty"):
        backup_create(actor=SYSTEM, out=tmp_path / "used")
    entry = AuditEntry.objects.order_by("-seq")[0]
    assert (entry.action, entry.outcome) == ("backup.create", "failure")


def test_postgresql_tools_missing_from_path_are_named(monkeypatch: Any) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(BackupRefused, match="pg_dump was not found on PATH"):
        backup._pg_tool("pg_dump")


def test_the_command_says_where_the_keys_are_when_not_copied(tmp_path: Path, capsys: Any) -> None:
    call_command("backup", "--out", str(tmp_path / "b"))
    out = capsys.readouterr().out
    assert str(crypto.key_file_path()) in out
    assert not (tmp_path / "b" / "personal-data.json").exists()


def test_the_restore_command_refuses_with_a_message(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"manifest\.json"):
        call_command("restore", str(tmp_path / "nothing"))
