"""Where queries go when a read replica is configured (WANGGE_REPLICA_DATABASE_URL).

One rule: the dashboard's own tables — the fact cubes and the per-grid figures, rebuilt by the
worker and up to a minute old by design — are read from `settings.DASHBOARD_READ_DATABASE`
("replica" when one is configured). Every other read, every write (the facts rebuild's too) and
every migration goes to the primary, "default". The facts' watermark (`FactState`) is the
rebuild's read-then-write bookkeeping and stays on the primary as well."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

REPLICA_APPS = {"dashboard"}
# Read-then-written by the rebuild itself: a lagging copy would move the watermark backwards.
PRIMARY_ONLY = {"dashboard.factstate"}


class ReplicaRouter:
    def db_for_read(self, model: Any, **_hints: Any) -> str:
        meta = model._meta
        if meta.app_label in REPLICA_APPS and meta.label_lower not in PRIMARY_ONLY:
            return str(settings.DASHBOARD_READ_DATABASE)
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model: Any, **_hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **_hints: Any) -> bool:
        # A replica holds the same rows as the primary: objects read from either relate.
        return True

    def allow_migrate(self, db: str, app_label: str, **_hints: Any) -> bool:
        # A replica is migrated by replication, never directly.
        return db == DEFAULT_DB_ALIAS
