"""Is this installation working? The probes behind /healthz and `wangge check`.

`health()` is what a load balancer or a monitor asks every few seconds (/healthz): the
database answers, a worker was alive recently, the data directory has room. It is cheap and says
nothing sensitive: no names, paths, host names or versions, only yes/no and a few numbers.

`operator_check()` is what an operator runs after an upgrade or a restore (`wangge check`): the
above plus every migration applied, the keys present and decrypting a sample of every encrypted
column, the audit chain verifying, and every static file the templates name present. It reads
the whole audit log, so it is for people, not for monitors.
"""

from __future__ import annotations

import logging
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core import crypto, jobs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Probe:
    """One finding: `name` is stable (database, worker, disk, migrations, keys, audit, static),
    `message` is for people, `details` holds numbers and names for `--json`."""

    name: str
    ok: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# The probes /healthz runs --------------------------------------------------------------------


def probe_database() -> Probe:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any driver error means "not reachable"; the log gets the reason
        log.exception("health: the database does not answer")
        return Probe("database", False, _("The database does not answer."))
    return Probe("database", True, _("The database answers."))


def worker_heartbeat_age() -> float | None:
    """Seconds since a worker was last seen alive, None when none ever was (or the database
    cannot tell)."""
    try:
        seen = jobs.worker_last_seen_unscoped()
    except DatabaseError:
        return None
    if seen is None:
        return None
    return max(0.0, (timezone.now() - seen).total_seconds())


def probe_worker() -> Probe:
    limit = settings.WORKER_HEARTBEAT_MAX_SECONDS
    age = worker_heartbeat_age()
    details: dict[str, Any] = {"heartbeat_age_seconds": None if age is None else round(age, 1)}
    details["max_age_seconds"] = limit
    if age is None:
        return Probe(
            "worker", False, _("No worker has ever reported: start `wangge worker`."), details
        )
    if age > limit:
        message = _(
            "The worker was last seen %(age)d seconds ago (more than %(limit)d): is "
            "`wangge worker` running?"
        ) % {"age": age, "limit": limit}
        return Probe("worker", False, message, details)
    message = _("A worker was seen %(age)d seconds ago.") % {"age": age}
    return Probe("worker", True, message, details)


def probe_disk() -> Probe:
    usage = shutil.disk_usage(settings.DATA_DIR)
    minimum = settings.HEALTH_MIN_FREE_BYTES
    details = {"free_bytes": usage.free, "total_bytes": usage.total, "min_free_bytes": minimum}
    mb = {"free": usage.free // 2**20, "min": minimum // 2**20}
    if usage.free < minimum:
        message = _("The data directory's disk has %(free)d MB free, less than %(min)d MB.") % mb
        return Probe("disk", False, message, details)
    return Probe("disk", True, _("The data directory's disk has %(free)d MB free.") % mb, details)


def health() -> tuple[bool, list[Probe]]:
    """The /healthz probes: healthy when all pass. The worker is asked only when the database
    answers (its heartbeat is in the database)."""
    database = probe_database()
    probes = [database, probe_worker() if database.ok else _unknown_worker(), probe_disk()]
    return all(p.ok for p in probes), probes


def _unknown_worker() -> Probe:
    return Probe("worker", False, _("Unknown: the database does not answer."))


# The probes `wangge check` adds --------------------------------------------------------------


def probe_migrations() -> Probe:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    missing = [f"{m.app_label}.{m.name}" for m, _backwards in plan]
    if missing:
        message = _("%(n)d migrations are not applied: run `wangge migrate`.") % {"n": len(missing)}
        return Probe("migrations", False, message, {"unapplied": missing})
    return Probe("migrations", True, _("Every migration is applied."), {"unapplied": []})


def probe_keys() -> Probe:
    """The personal-data key file is there and decrypts the first value of every encrypted
    column, and it holds every key the data (rows and sealed files) is encrypted with."""
    path = crypto.key_file_path()
    samples = crypto.ciphertext_samples_unscoped()
    details: dict[str, Any] = {"key_file": str(path), "columns_sampled": len(samples)}
    if not path.exists():
        if samples:
            message = _(
                "The key file %(path)s is missing, but the database holds encrypted data: "
                "restore it from the key backup."
            ) % {"path": path}
            return Probe("keys", False, message, details)
        message = _("No key file yet and no encrypted data (it is made on first use).")
        return Probe("keys", True, message, details)
    try:
        ring = crypto.keyring()
        missing = sorted(crypto.keys_in_use() - set(ring.keys))
    except Exception as exc:  # a damaged key file: ConfigError; say what, not a trace
        return Probe("keys", False, str(exc), details)
    if missing:
        message = _("The data uses keys the key file does not hold: %(keys)s.") % {
            "keys": ", ".join(missing)
        }
        return Probe("keys", False, message, {**details, "missing_keys": missing})
    failed = [label for label, context, token in samples if not _decrypts(ring, token, context)]
    if failed:
        message = _("The key file does not decrypt %(columns)s: is it this database's?") % {
            "columns": ", ".join(failed)
        }
        return Probe("keys", False, message, {**details, "undecryptable": failed})
    message = _("The key file decrypts a sample of every encrypted column (%(n)d).") % {
        "n": len(samples)
    }
    return Probe("keys", True, message, details)


def _decrypts(ring: crypto.KeyRing, token: str, context: str) -> bool:
    try:
        ring.decrypt(token, context=context)
    except Exception:  # InvalidTag, an unknown key, a damaged value: all mean "no"
        return False
    return True


def probe_audit() -> Probe:
    from wangge.core.audit import audit_verify

    report = audit_verify()
    details = {
        "entries": report.entries,
        "checkpoints": report.checkpoints,
        "problems": [{"kind": p.kind, "message": p.message} for p in report.problems],
    }
    if report.problems:
        message = _("The audit log does not verify: %(problems)s") % {
            "problems": "; ".join(p.message for p in report.problems[:5])
        }
        return Probe("audit", False, message, details)
    message = _("The audit log verifies: %(n)d entries, %(c)d checkpoints.") % {
        "n": report.entries,
        "c": report.checkpoints,
    }
    return Probe("audit", True, message, details)


_STATIC_NAME = re.compile(r"""\{%\s*static\s+['"]([^'"]+)['"]""")


def static_names() -> set[str]:
    """Every static file a template names (`{% static '…' %}`)."""
    from django.template.utils import get_app_template_dirs

    templates: list[dict[str, Any]] = settings.TEMPLATES
    directories = [Path(d) for t in templates for d in t.get("DIRS", [])]
    directories += [Path(d) for d in get_app_template_dirs("templates")]
    names: set[str] = set()
    for directory in directories:
        for template in directory.rglob("*.html"):
            names |= set(_STATIC_NAME.findall(template.read_text(encoding="utf-8")))
    return names


def probe_static() -> Probe:
    from django.contrib.staticfiles import finders

    names = static_names()
    missing = sorted(name for name in names if not finders.find(name))
    if missing:
        message = _(
            "%(n)d static files the pages need are missing (e.g. %(first)s): install the "
            "front-end files (`make setup`) or a wheel that carries them."
        ) % {"n": len(missing), "first": missing[0]}
        return Probe("static", False, message, {"missing": missing})
    message = _("Every static file the pages name is present (%(n)d).") % {"n": len(names)}
    return Probe("static", True, message, {"missing": []})


def operator_check() -> tuple[bool, list[Probe]]:
    """`wangge check`: everything an operator should know after an upgrade or a restore."""
    database = probe_database()
    if not database.ok:
        return False, [database, probe_disk(), probe_static()]
    probes = [
        database,
        probe_migrations(),
        _guarded("keys", probe_keys),
        _guarded("audit", probe_audit),
        _guarded("worker", probe_worker),
        probe_disk(),
        probe_static(),
    ]
    return all(p.ok for p in probes), probes


def _guarded(name: str, probe: Any) -> Probe:
    """A probe that reads tables an unmigrated database may not have yet."""
    try:
        result: Probe = probe()
    except DatabaseError:
        log.exception("check: %s could not be read", name)
        return Probe(name, False, _("Could not be checked: is the database migrated?"))
    return result
