"""SQLite with write transactions queued on a file lock.

Every transaction begins IMMEDIATE (it takes SQLite's write lock at once, see settings). When
several server processes and threads write at once, SQLite makes the losers sleep and poll
(its busy handler backs off up to 100 ms a try), so under load requests convoy behind sleeping
waiters. Here a transaction first takes an exclusive `flock` on `<database>.lock`: waiters
block in the kernel and are woken the moment the holder commits, in turn. Reads outside
transactions are untouched (WAL lets them run beside the writer).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from typing import Any

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    _lock_fd: int | None = None
    _locked = False

    def _django(self) -> Any:
        """Django's own backend methods (private hooks the type stubs do not declare)."""
        return super()

    def _lock_path(self) -> str | None:
        name = str(self.settings_dict.get("NAME") or "")
        if not name or name == ":memory:" or name.startswith("file:"):
            return None
        return name + ".lock"

    def _acquire(self) -> None:
        path = self._lock_path()
        if path is None or self._locked:
            return
        if self._lock_fd is None:
            self._lock_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        self._locked = True

    def _release(self) -> None:
        if self._locked and self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        self._locked = False

    def get_new_connection(self, conn_params: Any) -> Any:
        # SQLite creates a missing database file world-readable (0644, the umask's default):
        # create it 0600 first; its -wal and -shm files then take the same mode.
        name = str(conn_params.get("database") or "")
        if name and name != ":memory:" and not name.startswith("file:"):
            with contextlib.suppress(FileExistsError):
                os.close(os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
        return super().get_new_connection(conn_params)

    def _start_transaction_under_autocommit(self) -> None:
        self._acquire()
        try:
            self._django()._start_transaction_under_autocommit()
        except BaseException:
            self._release()
            raise

    def _commit(self) -> Any:
        try:
            return self._django()._commit()
        finally:
            self._release()

    def _rollback(self) -> Any:
        try:
            return self._django()._rollback()
        finally:
            self._release()

    def _close(self) -> Any:
        try:
            return self._django()._close()
        finally:
            self._release()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None
