"""The people fast path's parsing process always ends and is reaped: after success (no zombie),
when a bad file makes the child or the parent fail halfway, on Ctrl-C, and when the parent is
killed. The import is run with a parsing process although the test holds a transaction open
(`workers=1`): the child never touches the database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from wangge.core.errors import ValidationFailed
from wangge.core.tabular import read_table_path
from wangge.core.tests.workbooks import row, write_xlsx_parts
from wangge.ledger.importers.people import PeopleImporter
from wangge.ledger.models import Person
from wangge.ledger.tests.test_import import GRID, valid_id

pytestmark = pytest.mark.django_db


def _state(pid: int) -> str | None:
    """The process's state letter (R, S, Z …), or None once it is gone (reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def _gone_within(pids: list[int], seconds: float) -> dict[int, str | None]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        states = {pid: _state(pid) for pid in pids}
        if all(state is None for state in states.values()):
            return states
        time.sleep(0.02)
    return {pid: _state(pid) for pid in pids}


def _person_id(n: int) -> str:
    return valid_id(n % 1000, birth=f"1990{1 + n // 1000:02d}01")


def _lines(count: int, start: int = 0) -> list[str]:
    return [f"人{n},{_person_id(n)},{GRID}" for n in range(start, start + count)]


def _importer(system: Any, pids: list[int], **options: Any) -> PeopleImporter:
    importer: PeopleImporter

    def progress(rows: int) -> None:
        assert importer.pool is not None
        pids.extend(p for p in importer.pool.pids if p not in pids)

    importer = PeopleImporter(actor=system, batch_size=50, workers=1, progress=progress, **options)
    return importer


def test_no_zombie_is_left_after_a_successful_import(tmp_path: Path, system: Any) -> None:
    path = tmp_path / "p.csv"
    path.write_text("姓名,身份证号,网格编码\n" + "\n".join(_lines(160)) + "\n", encoding="utf-8")
    before = Person.objects.dangerously_unscoped().count()
    pids: list[int] = []

    result = _importer(system, pids).run(read_table_path(path))

    assert (result.total, result.inserted) == (160, 160)
    assert Person.objects.dangerously_unscoped().count() == before + 160
    assert len(pids) == 1
    assert {pid: _state(pid) for pid in pids} == {pids[0]: None}  # ended and reaped at once


def _oversized_field_csv(path: Path) -> Path:
    """Quote-free, so the child reads its own slices of the file; line 5002 holds a field past
    csv's limit, so the child raises on a slice halfway through."""
    lines = [*_lines(5000), f"长,{_person_id(9000)},{GRID}," + "x" * 140_000, *_lines(100, 6000)]
    path.write_text("姓名,身份证号,网格编码,现住地址\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def _broken_workbook(path: Path) -> Path:
    """Read by the parent, which fails on the broken XML after several batches."""
    rows = [row(1, ["姓名", "身份证号", "网格编码"])]
    rows += [row(n + 2, [f"人{n}", _person_id(n), GRID]) for n in range(5000)]
    return write_xlsx_parts(
        path, rows, dimension="A1:C5001", end=b'<row r="9999"><c r="A9999"><v>1</c></row>'
    )


@pytest.mark.parametrize(
    ("make", "name", "message"),
    [
        (_oversized_field_csv, "p.csv", "第 5002 行无法读取"),
        (_broken_workbook, "p.xlsx", "无法作为 Excel 工作簿（.xlsx）打开该文件"),
    ],
    ids=["child-raises", "parent-raises"],
)
def test_the_child_ends_when_a_bad_file_fails_the_import_halfway(
    tmp_path: Path, system: Any, make: Callable[[Path], Path], name: str, message: str
) -> None:
    path = make(tmp_path / name)
    before = Person.objects.dangerously_unscoped().count()
    pids: list[int] = []

    with pytest.raises(ValidationFailed) as info:
        _importer(system, pids).run(read_table_path(path))

    assert info.value.message.startswith(message)
    assert len(pids) == 1  # batches went through the child before the failure
    assert _gone_within(pids, 1.0) == {pids[0]: None}
    # The batches before the failure are stored; nothing from after it.
    added = Person.objects.dangerously_unscoped().count() - before
    assert 0 < added < 5000
    assert not Person.objects.dangerously_unscoped().filter(name__in=["人6000", "人6099"]).exists()


def test_the_child_ends_on_ctrl_c(tmp_path: Path, system: Any) -> None:
    path = tmp_path / "p.csv"
    path.write_text("姓名,身份证号,网格编码\n" + "\n".join(_lines(300)) + "\n", encoding="utf-8")
    pids: list[int] = []
    importer = _importer(system, pids)
    record = importer.progress
    assert record is not None

    def interrupt(rows: int) -> None:
        record(rows)
        raise KeyboardInterrupt

    importer.progress = interrupt
    with pytest.raises(KeyboardInterrupt):
        importer.run(read_table_path(path))

    assert len(pids) == 1
    assert _gone_within(pids, 1.0) == {pids[0]: None}


CHILD_OF_A_KILLED_PARENT = """
import django
django.setup()
from wangge.core.tabular import match_headers
from wangge.ledger import columns
from wangge.ledger.importers.prepare import prepare
from wangge.ledger.importers.workers import ParseWorkers

mapping = match_headers(["姓名", "身份证号"], columns.PEOPLE)
rows = [(n + 2, ["某", {id!r}]) for n in range(300_000)]  # many seconds of work
with ParseWorkers(1, prepare) as pool:
    print(pool.pids[0], flush=True)
    next(pool.map(iter([(rows, mapping, False)])))  # sends the batch, waits for it
"""


def test_the_child_dies_with_its_killed_parent() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", CHILD_OF_A_KILLED_PARENT.format(id=_person_id(1))],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "wangge.settings_test"},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        time.sleep(0.5)  # the child is busy with the batch now
        assert _state(child) in {"R", "S", "D"}
        parent.send_signal(signal.SIGKILL)  # no finally, no cleanup: only the kernel is left
        parent.wait(timeout=5)

        state = _gone_within([child], 1.0)[child]
    finally:
        parent.kill()
        parent.wait()
    # Gone, or dead and waiting for its new parent (init) to reap it: not running.
    assert state in {None, "Z"}, state
