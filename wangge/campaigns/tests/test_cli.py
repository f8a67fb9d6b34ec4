"""`wangge campaigns create | progress | report | scan`: the documented output, exactly, on the
factories' world; bad input is one Chinese line and exit status 1, never a traceback."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from openpyxl import load_workbook

from wangge.campaigns import edits
from wangge.campaigns.management.commands.campaigns import Command
from wangge.campaigns.models import Campaign, Task, TaskRecord
from wangge.campaigns.tests.factories import LILE, MINE, YINGNAN, edit, reset_sequences
from wangge.core.models import AuditEntry, User
from wangge.core.scope import scope_for
from wangge.ledger.models import Household, Organisation, Person, Room, Thing
from wangge.regions.models import Level, Region

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _sequences() -> None:
    reset_sequences()


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("campaigns", *args, stdout=out)
    return out.getvalue()


def grids_under(*codes: str) -> int:
    return sum(
        Region.objects.dangerously_unscoped()
        .filter(level=Level.GRID, valid_to=None, code__startswith=code)
        .count()
        for code in codes
    )


def create(*extra: str, region: str = LILE, template: str = "basic") -> dict[str, Any]:
    return json.loads(
        run(
            "create",
            "--name",
            "2026年基础信息采集核查",
            "--template",
            template,
            "--region",
            region,
            "--start",
            (TODAY - dt.timedelta(days=1)).isoformat(),
            "--end",
            (TODAY + dt.timedelta(days=20)).isoformat(),
            "--json",
            *extra,
        )
    )


def test_create_prints_the_id_and_one_task_per_grid() -> None:
    made = create(region=f"{YINGNAN},440704001")
    assert list(made) == ["id", "tasks"]
    assert made["tasks"] == grids_under(YINGNAN, "440704001") == 7
    c = Campaign.objects.dangerously_unscoped().get(pk=made["id"])
    assert c.regions == ["440704001", YINGNAN]
    assert c.kinds == ["person", "household", "room", "organisation", "thing"]  # the template's
    assert Task.objects.dangerously_unscoped().filter(campaign=c).count() == 7


def test_kinds_are_the_documented_words() -> None:
    made = create("--kinds", "people,organisations,addresses")
    assert made["tasks"] == grids_under(LILE)
    c = Campaign.objects.dangerously_unscoped().get(pk=made["id"])
    assert c.kinds == ["person", "organisation", "room"]
    kinds = set(
        TaskRecord.objects.dangerously_unscoped()
        .filter(task__campaign=c)
        .values_list("kind", flat=True)
    )
    assert kinds == {"person", "organisation", "room"}


def test_progress_json_has_exactly_the_documented_keys_and_numbers() -> None:
    made = create()
    task = Task.objects.dangerously_unscoped().get(campaign_id=made["id"], grid_code=MINE)
    lile_people = Person.objects.dangerously_unscoped().filter(
        grid_code__startswith=LILE, retired_on=None
    )
    p1, p2, p3 = lile_people.filter(grid_code=MINE).order_by("id")[:3]
    org = Organisation.objects.dangerously_unscoped().filter(grid_code=MINE).first()
    edits.apply_edits(
        actor=scope_for(User.objects.get(username="demo-grid")),
        task_id=task.pk,
        edits=[
            edit("confirm", "person", p1.pk, p1.version),
            edit("correct", "person", p2.pk, p2.version, fields={"occupation": "渔民"}),
            edit("retire", "person", p3.pk, p3.version, reason="moved_away"),
            edit("add", "person", fields={"name": "新来的", "id_number": "11010519491231002X"}),
            edit("confirm", "organisation", org.pk, org.version),
        ],
    )
    counts = {
        "people": lile_people.count(),
        "households": Household.objects.dangerously_unscoped()
        .filter(grid_code__startswith=LILE)
        .count(),
        "addresses": Room.objects.dangerously_unscoped().filter(grid_code__startswith=LILE).count(),
        "organisations": Organisation.objects.dangerously_unscoped()
        .filter(grid_code__startswith=LILE)
        .count(),
        "things": Thing.objects.dangerously_unscoped().filter(grid_code__startswith=LILE).count(),
    }
    out = json.loads(run("progress", str(made["id"]), "--json"))
    assert list(out) == ["tasks", "by_state", "records", "households", "conflicts"]
    assert out["tasks"] == 7
    assert out["by_state"] == {
        "assigned": 6,
        "in_progress": 1,
        "submitted": 0,
        "reviewed": 0,
        "approved": 0,
        "returned": 0,
    }
    blank = {"verified": 0, "corrected": 0, "added": 0, "retired": 0}
    assert out["records"] == {
        # p3 retired stays on the worklist (and counts), the added person joins it
        "people": {
            "total": counts["people"] + 1,
            "verified": 4,
            "corrected": 1,
            "added": 1,
            "retired": 1,
        },
        "households": {"total": counts["households"], **blank},
        "addresses": {"total": counts["addresses"], **blank},
        "organisations": {"total": counts["organisations"], **blank, "verified": 1},
        "things": {"total": counts["things"], **blank},
    }
    assert out["households"] == {"visited": 0, "nobody_home": 0, "refused": 0, "vacant": 0}
    assert out["conflicts"] == 0
    text = run("progress", str(made["id"]))
    assert f"实有人口：已核实 4 / {counts['people'] + 1}" in text
    assert "待处理冲突：0" in text


def test_report_writes_the_progress_workbook(tmp_path: Path) -> None:
    made = create(region=YINGNAN)
    path = tmp_path / "progress.xlsx"
    text = run("report", str(made["id"]), "--out", str(path))
    assert str(path) in text
    book = load_workbook(path, read_only=True)
    assert book.sheetnames == ["街道", "村（社区）", "网格", "人员"]
    rows = list(book["网格"].iter_rows(values_only=True))
    assert len(rows) == 1 + grids_under(YINGNAN)
    assert AuditEntry.objects.filter(
        action="campaign.progress_export", object_id=str(made["id"])
    ).exists()


def test_scan_prints_its_json() -> None:
    json.loads(run("scan", "--json"))  # whatever the world holds: due ones go first
    made = json.loads(
        run(
            "create",
            "--name",
            "上月的核查",
            "--template",
            "visit",
            "--region",
            YINGNAN,
            "--start",
            (TODAY - dt.timedelta(days=30)).isoformat(),
            "--end",
            (TODAY - dt.timedelta(days=2)).isoformat(),
            "--json",
        )
    )
    assert json.loads(run("scan", "--json")) == {
        "holds_expired": 0,
        "overdue_notified": made["tasks"],
    }
    assert run("scan").strip() == "释放过期领取 0 个，通知逾期任务 0 个。"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["create", "--template", "basic", "--region", LILE], "名称"),
        (
            [
                "create",
                "--name",
                "x",
                "--template",
                "nope",
                "--region",
                LILE,
                "--start",
                "2026-12-01",
                "--end",
                "2026-12-31",
            ],
            "nope",
        ),
        (
            [
                "create",
                "--name",
                "x",
                "--template",
                "basic",
                "--region",
                LILE,
                "--start",
                "2026-13-01",
                "--end",
                "2026-12-31",
            ],
            "--start",
        ),
        (
            [
                "create",
                "--name",
                "x",
                "--template",
                "basic",
                "--region",
                "999999",
                "--start",
                "2026-12-01",
                "--end",
                "2026-12-31",
            ],
            "999999",
        ),
        (
            [
                "create",
                "--name",
                "x",
                "--template",
                "basic",
                "--region",
                LILE,
                "--start",
                "2026-12-01",
                "--end",
                "2026-12-31",
                "--kinds",
                "people,cats",
            ],
            "cats",
        ),
        (
            [
                "create",
                "--name",
                "x",
                "--template",
                "basic",
                "--region",
                LILE,
                "--start",
                "2026-12-31",
                "--end",
                "2026-12-01",
            ],
            "结束",
        ),
        (["progress", "424242"], "424242"),
        (["progress", "abc"], "abc"),
        (["report", "1"], "--out"),
    ],
)
def test_bad_input_is_one_chinese_line_and_status_1(args: list[str], says: str) -> None:
    with pytest.raises(CommandError) as info:
        run(*args)
    message = str(info.value)
    assert says in message
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message
    assert info.value.returncode == 1
    assert Campaign.objects.dangerously_unscoped().count() == 0


def test_from_the_command_line_bad_arguments_exit_1_without_a_traceback(
    capsys: Any, monkeypatch: Any
) -> None:
    from django.db import connections

    monkeypatch.setattr(connections, "close_all", lambda: None)  # keep the test's transaction
    for argv in (
        ["wangge", "campaigns", "create", "--no-such-flag"],
        ["wangge", "campaigns", "progress", "424242", "--json"],
    ):
        with pytest.raises(SystemExit) as exit_info:
            Command().run_from_argv(argv)
        assert exit_info.value.code == 1
        err = capsys.readouterr().err
        assert "Traceback" not in err and any("\u4e00" <= ch <= "\u9fff" for ch in err), err
