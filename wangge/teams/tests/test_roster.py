from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from openpyxl import Workbook, load_workbook

from wangge.core.models import AuditEntry
from wangge.core.scope import Scope
from wangge.teams import roster
from wangge.teams.models import Assignment, PartyMember, PartyOrganisation, StaffMember

pytestmark = pytest.mark.django_db

HEADERS = [c.header for c in roster.STAFF_COLUMNS]


def _workbook(rows: list[list[Any]], headers: list[str] | None = None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = roster.STAFF_SHEET
    ws.append(headers or HEADERS)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


GOOD = [
    "440704003001002",
    "",
    "兼职网格员",
    "黎明",
    "男",
    "11010519491231002X",
    "13800138000",
    "群众",
    "",
    "",
    "2026-03-01",
    "",
]


def _counts() -> tuple[int, int, int]:
    return (
        StaffMember.objects.dangerously_unscoped().count(),
        Assignment.objects.dangerously_unscoped().count(),
        PartyMember.objects.dangerously_unscoped().count(),
    )


def test_export_imports_back_with_nothing_changed(system: Any, tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "roster.xlsx"
    call_command("teams", "export", "--out", str(out))
    before = _counts()
    audit_before = AuditEntry.objects.count()

    call_command("teams", "import", str(out), "--json")

    result = json.loads(capsys.readouterr().out)
    assert result["rejected"] == 0, result["errors"][:3]
    assert result["inserted"] == 0 and result["updated"] == 0
    current = Assignment.objects.dangerously_unscoped().filter(valid_to=None).count()
    orgs = PartyOrganisation.objects.dangerously_unscoped().count()
    assert result["skipped"] == result["total"] == current + orgs + before[2]
    assert _counts() == before
    # Only the import's own summary entry (and the export's) were written: nothing changed.
    assert AuditEntry.objects.count() == audit_before + 1


def test_bad_row_is_reported_with_row_column_reason_and_nothing_stored(
    tmp_path: Path, capsys: Any
) -> None:
    bad = list(GOOD)
    bad[5] = "110105194912310021"  # wrong check digit
    path = tmp_path / "bad.xlsx"
    path.write_bytes(_workbook([GOOD, [None] * len(GOOD), bad]))
    errors_path = tmp_path / "errors.xlsx"
    before = _counts()

    with pytest.raises(SystemExit) as exit_info:
        call_command("teams", "import", str(path), "--json", "--errors", str(errors_path))

    assert exit_info.value.code == 1
    result = json.loads(capsys.readouterr().out)
    # The blank row 3 is not a row; the bad one is row 4, as the spreadsheet shows it.
    assert (result["total"], result["inserted"], result["rejected"]) == (2, 1, 1)
    assert result["inserted"] + result["updated"] + result["skipped"] + result["rejected"] == 2
    assert result["errors"] == [
        {
            "row": 4,
            "column": "身份证号",
            "code": "id_check",
            "message": result["errors"][0]["message"],
            "sheet": "网格员",
        }
    ]
    assert "校验" in result["errors"][0]["message"]
    assert result["stored"] is False
    assert _counts() == before
    sheet = load_workbook(errors_path).active
    header = [c.value for c in sheet[1]]
    assert header[-2:] == ["原文件行号", "原因"]
    assert [c.value for c in sheet[2]][-2] == 4
    assert "身份证号" in [c.value for c in sheet[2]][-1]


def test_partial_import_stores_the_good_rows(system: Any) -> None:
    bad = list(GOOD)
    bad[0] = "440704009009009"
    result = roster.roster_import(
        actor=system, data=_workbook([GOOD, bad]), filename="r.xlsx", all_or_nothing=False
    )
    assert (result.inserted, result.rejected, result.stored) == (1, 1, True)
    assert result.errors[0].code == "unknown_grid" and result.errors[0].row == 3


def test_dry_run_stores_nothing(system: Any) -> None:
    before = _counts()
    result = roster.roster_import(
        actor=system, data=_workbook([GOOD]), filename="r.xlsx", dry_run=True
    )
    assert (result.inserted, result.stored) == (1, False)
    assert _counts() == before


def test_header_aliases_and_gb18030_csv(system: Any) -> None:
    headers = [
        "所属网格编码",
        "网格名称",
        "岗位",
        "姓名",
        "性别",
        "公民身份号码",
        "联系电话",
        "政治面貌",
        "单位",
        "部门",
        "上岗日期",
        "离任日期",
    ]
    text = ",".join(headers) + "\n" + ",".join(GOOD) + "\n"
    result = roster.roster_import(actor=system, data=text.encode("gb18030"), filename="r.csv")
    assert (result.inserted, result.rejected) == (1, 0), result.as_dict()


def test_unknown_and_missing_headers_are_named(db: Any) -> None:
    from wangge.core.errors import ValidationFailed

    headers = [h for h in HEADERS if h != "身份证号"] + ["备注栏"]
    with pytest.raises(ValidationFailed) as info:
        roster.roster_import(
            actor=Scope.system("test"), data=_workbook([], headers=headers), filename="r.xlsx"
        )
    assert "身份证号" in info.value.message and "备注栏" in info.value.message


def test_formula_cell_is_rejected(system: Any) -> None:
    row = list(GOOD)
    row[3] = '=HYPERLINK("http://x","点我")'
    result = roster.roster_import(actor=system, data=_workbook([row]), filename="r.xlsx")
    assert result.rejected == 1
    assert result.errors[0].code == "formula" and result.errors[0].column == "姓名"


def test_export_is_safe_from_formula_injection(system: Any) -> None:
    staff = StaffMember.objects.dangerously_unscoped().first()
    StaffMember.objects.dangerously_unscoped().filter(pk=staff.pk).update(employer="=1+2")
    data = roster.roster_export(actor=system)
    sheet = load_workbook(io.BytesIO(data)).active
    employers = [row[8].value for row in sheet.iter_rows(min_row=2)]
    assert "'=1+2" in employers
    assert not any(isinstance(v, str) and v.startswith("=") for v in employers)


def test_export_is_masked_unless_asked(system: Any, user: Any) -> None:
    from wangge.core.scope import scope_for

    masked = load_workbook(io.BytesIO(roster.roster_export(actor=system))).active
    ids = [row[5].value for row in masked.iter_rows(min_row=2)]
    assert all("**********" in v for v in ids)
    entry = AuditEntry.objects.filter(action="teams.export").order_by("-seq")[0]
    assert entry.details["unmasked"] is False
    full = load_workbook(
        io.BytesIO(roster.roster_export(actor=system, unmasked=True, reason="检查名册"))
    )
    assert not any("*" in row[5].value for row in full.active.iter_rows(min_row=2))
    # Without personal.reveal: refused, and the refusal is in the audit log.
    from wangge.core.errors import PermissionDenied, ValidationFailed

    with pytest.raises(PermissionDenied):
        roster.roster_export(actor=scope_for(user("demo-dept")), unmasked=True, reason="检查名册")
    entry = AuditEntry.objects.filter(action="teams.export").order_by("-seq")[0]
    assert (entry.outcome, entry.details) == ("denied", {"unmasked": True})
    with pytest.raises(ValidationFailed) as info:
        roster.roster_export(actor=system, unmasked=True, reason=" x ")
    assert info.value.code == "reason_required"


def test_template_has_the_three_sheets(system: Any) -> None:
    wb = load_workbook(io.BytesIO(roster.template(actor=system)))
    assert wb.sheetnames[:3] == ["网格员", "党组织", "党员"]
    assert [c.value for c in wb["网格员"][1]] == HEADERS


def test_a_roster_over_its_row_limit_is_refused_before_any_row(system: Any) -> None:
    # A roster is imported inside the request: it has its own, smaller, limit.
    from wangge.core.errors import ValidationFailed

    text = ",".join(HEADERS) + "\n" + (",".join(GOOD) + "\n") * (roster.MAX_ROWS + 1)
    before = _counts()
    with pytest.raises(ValidationFailed) as info:
        roster.roster_import(actor=system, data=text.encode(), filename="r.csv")
    assert (info.value.code, info.value.details) == ("too_many_rows", {"limit": roster.MAX_ROWS})
    assert _counts() == before


def test_a_roster_zip_bomb_is_refused_before_it_is_opened(api_as: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from wangge.core.tests.workbooks import zip_bomb

    upload = SimpleUploadedFile("r.xlsx", zip_bomb())
    response = api_as("demo-community").post("/api/v1/teams-roster", {"file": upload})
    assert (response.status_code, response.json()["code"]) == (400, "workbook_too_large")
