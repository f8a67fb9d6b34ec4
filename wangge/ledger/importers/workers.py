"""Parsing processes for the people fast path, and their whole lifetime.

A forked child parses, checks and encrypts batch k+1 while the main process inserts batch k.
`ParseWorkers` is a context manager owned by the import's `run`, not by a generator that may
outlive a failure: leaving it — at the end, on an exception in either process, on a bad file,
on KeyboardInterrupt or SystemExit — ends the children and reaps them (no zombie) before the
import returns or raises. A child also ends when its parent dies without cleaning up: the
kernel kills it (PR_SET_PDEATHSIG, Linux), and its pipe closing ends its loop elsewhere.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import os
import signal
import sys
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import Any

from wangge.core.errors import ValidationFailed

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
GRACE_SECONDS = 5  # an idle child told to stop is gone in milliseconds


class ParseWorkers:
    """`count` forked children running `work(task)`; `map(tasks)` yields their results in
    order, one task ahead per child. A ValidationFailed in a child is raised in the parent
    with the same code and message."""

    def __init__(self, count: int, work: Callable[[Any], Any]):
        self.count = count
        self.work = work
        self._children: list[tuple[Connection, BaseProcess]] = []

    @property
    def pids(self) -> list[int]:
        return [process.pid for _conn, process in self._children if process.pid is not None]

    def __enter__(self) -> ParseWorkers:
        context = multiprocessing.get_context("fork")
        parent_pid = os.getpid()
        try:
            for _number in range(self.count):
                ours, theirs = context.Pipe()
                # The child closes its copies of the parent's ends: held open there, they would
                # hide the parent's death from it.
                inherited = [conn for conn, _process in self._children] + [ours]
                process = context.Process(
                    target=_child_loop,
                    args=(theirs, inherited, parent_pid, self.work),
                    daemon=True,
                )
                process.start()
                theirs.close()
                self._children.append((ours, process))
        except BaseException:
            self.close(graceful=False)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(graceful=exc_type is None)

    def map(self, tasks: Iterator[Any]) -> Iterator[Any]:
        # Ping-pong, received in order: no helper threads, which would contend for the GIL
        # with the database driver (it releases it on every row it steps).
        in_flight: deque[Connection] = deque()
        for conn, _process in self._children:
            task = next(tasks, None)
            if task is None:
                break
            conn.send(task)
            in_flight.append(conn)
        while in_flight:
            conn = in_flight.popleft()
            result = _receive(conn)
            task = next(tasks, None)
            if task is not None:
                conn.send(task)
                in_flight.append(conn)
            yield result

    def close(self, *, graceful: bool) -> None:
        """End and reap every child. Gracefully (told to stop, then waited for) after
        success; at once (SIGTERM) after a failure, when a child may be mid-batch."""
        children, self._children = self._children, []
        for conn, process in children:
            if graceful:
                with contextlib.suppress(OSError):
                    conn.send(None)
            conn.close()  # a child blocked sending to us gets a broken pipe
            if not graceful:
                process.terminate()
        for _conn, process in children:
            process.join(timeout=GRACE_SECONDS if graceful else 1)
            if process.exitcode is None:
                process.kill()
                process.join()
            process.close()


def _receive(conn: Connection) -> Any:
    try:
        reply = conn.recv()
    except EOFError:
        raise RuntimeError("an import parsing process ended unexpectedly") from None
    status = reply[0]
    if status == "ok":
        return reply[1]
    if status == "invalid":
        raise ValidationFailed(reply[1], code=reply[2], details=reply[3])
    raise RuntimeError(f"an import parsing process failed:\n{reply[1]}")


def _die_with_parent(parent_pid: int) -> None:
    if sys.platform.startswith("linux"):
        # Delivered when the thread that forked us ends: the import's own thread, which closes
        # the children before it can end.
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the line above
        os._exit(0)


def _child_loop(
    conn: Connection, inherited: list[Connection], parent_pid: int, work: Callable[[Any], Any]
) -> None:
    """Tasks in, ("ok", result) | ("invalid", message, code, details) | ("crash", traceback)
    out, until None or a closed pipe."""
    for other in inherited:
        other.close()
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which ends us
    gc.disable()  # short-lived, allocation-heavy, no reference cycles: see PeopleImporter.run
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        reply: tuple[Any, ...]
        try:
            reply = ("ok", work(task))
        except ValidationFailed as exc:
            reply = ("invalid", exc.message, exc.code, exc.details)
        except Exception:  # reported to the parent, which fails the import with it
            reply = ("crash", traceback.format_exc(limit=5))
        try:
            conn.send(reply)
        except OSError:  # the parent is gone
            return
