from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from openpyxl import Workbook, load_workbook

from wangge.core.errors import PermissionDenied
from wangge.core.models import AuditEntry
from wangge.core.tabular import read_table_path
from wangge.core.validators import id_check_char
from wangge.ledger.importers import ledger_import
from wangge.ledger.models import Household, Person, SensitiveTag

pytestmark = pytest.mark.django_db

GRID = "440704003001001"


def valid_id(seq: int, birth: str = "19800101") -> str:
    first = f"440704{birth}{seq:03d}"
    return first + id_check_char(first)


HEADERS = [
    "姓名",
    "公民身份号码",
    "手机号码",
    "网格编码",
    "户编号",
    "与户主关系",
    "关爱对象",
    "特殊人群",
]


def messy_workbook(path: Path) -> Path:
    good = valid_id(101)
    wb = Workbook()
    ws = wb.active
    ws.append(HEADERS)
    ws.append(["甲", good, "13800001111", GRID, "HX1", "户主", "独居老人", "社区矫正"])  # 2 ok
    ws.append(
        [
            "乙",
            "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in valid_id(102)),
            "１３８００００２２２２",
            GRID,
            "HX1",
            "配偶",
            "",
            "",
        ]
    )  # 3 full-width: ok
    ws.append([None] * len(HEADERS))  # 4 blank: not a row
    ws.append(
        [
            "丙",
            valid_id(103)[:-1] + ("0" if valid_id(103)[-1] != "0" else "1"),
            "13800003333",
            GRID,
            "",
            "",
            "",
            "",
        ]
    )  # 5 bad check digit
    ws.append(["丁", good.lower(), "13800004444", GRID, "", "", "", ""])  # 6 duplicate of row 2
    ws.append(
        ["戊", valid_id(105), "13800005555", "440704999999999", "", "", "", ""]
    )  # 7 unknown grid
    ws.append(["己", valid_id(106), "13800006666", GRID, "", "", "", ""])  # 8 formula below
    ws["A8"] = '=CONCATENATE("己","某")'
    ws.append(["庚", valid_id(107), "12345", GRID, "", "", "", ""])  # 9 bad phone
    wb.save(path)
    return path


def test_messy_workbook_exact_accounting_and_error_file(tmp_path: Path, capsys: Any) -> None:
    path = messy_workbook(tmp_path / "messy.xlsx")
    errors_path = tmp_path / "errors.xlsx"
    before = Person.objects.dangerously_unscoped().count()

    with pytest.raises(SystemExit):
        call_command(
            "ledger", "import", "people", str(path), "--json", "--errors", str(errors_path)
        )

    out = json.loads(capsys.readouterr().out)
    assert (out["total"], out["inserted"], out["updated"], out["skipped"], out["rejected"]) == (
        7,
        2,
        0,
        1,
        4,
    )
    assert out["inserted"] + out["updated"] + out["skipped"] + out["rejected"] == out["total"]
    found = {(e["row"], e["column"], e["code"]) for e in out["errors"]}
    assert found == {
        (5, "身份证号", "id_check"),
        (7, "网格编码", "unknown_grid"),
        (8, "姓名", "formula"),
        (9, "手机号码", "mobile_format"),
    }
    assert [(w["row"], w["code"]) for w in out["warnings"]] == [(6, "duplicate_in_file")]
    # The stored data matches the accounting.
    assert Person.objects.dangerously_unscoped().count() == before + 2
    first = Person.objects.dangerously_unscoped().get(id_index__isnull=False, name="甲")
    assert first.care_tag_list() == ["elderly_alone"]
    assert first.gender == "male" and first.birth_date.isoformat() == "1980-01-01"
    household = Household.objects.dangerously_unscoped().get(code="HX1")
    assert household.head_id == first.pk
    assert Person.objects.dangerously_unscoped().filter(household=household).count() == 2
    assert SensitiveTag.objects.dangerously_unscoped().filter(person=first).count() == 1
    second = Person.objects.dangerously_unscoped().get(name="乙")
    assert second.id_number == valid_id(102) and second.phone == "13800002222"
    # The error file has the four rejected rows, their row numbers and reasons.
    sheet = load_workbook(errors_path).active
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert [r[-2] for r in rows] == [5, 7, 8, 9]
    assert all(r[-1] for r in rows)


def test_dry_run_stores_nothing_and_rerun_is_safe(tmp_path: Path, system: Any) -> None:
    path = tmp_path / "p.csv"
    path.write_text(
        f"姓名,身份证号,网格编码\n张,{valid_id(201)},{GRID}\n李,{valid_id(202)},{GRID}\n",
        encoding="utf-8",
    )
    before = Person.objects.dangerously_unscoped().count()
    dry = ledger_import(actor=system, kind="people", table=read_table_path(path), dry_run=True)
    assert (dry.inserted, Person.objects.dangerously_unscoped().count()) == (2, before)
    first = ledger_import(actor=system, kind="people", table=read_table_path(path))
    again = ledger_import(actor=system, kind="people", table=read_table_path(path))
    assert (first.inserted, again.inserted, again.skipped) == (2, 0, 2)
    update = ledger_import(
        actor=system, kind="people", table=read_table_path(path), on_duplicate="update"
    )
    assert (update.updated, update.inserted) == (2, 0)


def test_grid_from_address_code_or_location(tmp_path: Path, system: Any) -> None:
    from wangge.ledger.models import Room

    room = Room.objects.dangerously_unscoped().filter(grid_code__startswith="440704003").first()
    building = room.building
    path = tmp_path / "p.csv"
    path.write_text(
        "姓名,身份证号,地址编码,经度,纬度\n"
        f"址,{valid_id(301)},{room.code},,\n"
        f"点,{valid_id(302)},,{building.lon},{building.lat}\n"
        f"外,{valid_id(303)},,100.0,30.0\n"
        f"无,{valid_id(304)},,,\n",
        encoding="utf-8",
    )
    result = ledger_import(actor=system, kind="people", table=read_table_path(path))
    assert (result.inserted, result.rejected) == (2, 2)
    assert {(e.row, e.code) for e in result.errors} == {(4, "outside_grids"), (5, "no_grid")}
    placed = Person.objects.dangerously_unscoped().get(name="址")
    assert (placed.grid_code, placed.room_id) == (room.grid_code, room.pk)
    assert Person.objects.dangerously_unscoped().get(name="点").grid_code == building.grid_code


def test_supervised_override_needs_role_and_reason(tmp_path: Path, user: Any) -> None:
    from wangge.core.scope import scope_for

    bad = valid_id(401)[:-1] + ("0" if valid_id(401)[-1] != "0" else "1")
    path = tmp_path / "p.csv"
    path.write_text(f"姓名,身份证号,网格编码\n错,{bad},{GRID}\n", encoding="utf-8")
    with pytest.raises(PermissionDenied):
        ledger_import(
            actor=scope_for(user("demo-grid")),
            kind="people",
            table=read_table_path(path),
            override_reason="户籍原件如此",
        )
    result = ledger_import(
        actor=scope_for(user("demo-community")),
        kind="people",
        table=read_table_path(path),
        override_reason="户籍原件如此",
    )
    assert (result.inserted, result.overridden) == (1, 1)
    person = Person.objects.dangerously_unscoped().get(name="错")
    assert person.id_checked is False and person.id_number == bad
    entry = AuditEntry.objects.filter(action="ledger.import.people").order_by("-seq")[0]
    assert entry.details["override_reason"] == "户籍原件如此" and entry.details[
        "override_rows"
    ] == [2]


def test_out_of_scope_grid_is_rejected_like_unknown(tmp_path: Path, user: Any) -> None:
    from wangge.core.scope import scope_for

    path = tmp_path / "p.csv"
    path.write_text(
        f"姓名,身份证号,网格编码\n外,{valid_id(501)},440704001001001\n", encoding="utf-8"
    )
    result = ledger_import(
        actor=scope_for(user("demo-street")), kind="people", table=read_table_path(path)
    )
    assert (result.rejected, result.errors[0].code) == (1, "unknown_grid")


def test_organisations_things_addresses(tmp_path: Path, system: Any) -> None:
    from wangge.core.validators import credit_check_char
    from wangge.ledger.models import Building, Organisation, Thing

    first17 = "91440704MA5" + "ABCDEF"
    code = first17 + credit_check_char(first17)
    b = Building.objects.dangerously_unscoped().filter(grid_code=GRID).first()
    orgs = tmp_path / "o.csv"
    orgs.write_text(
        f"单位名称,统一社会信用代码,单位类型,网格编码\n某店,{code},个体工商户,{GRID}\n重复,{code},企业,{GRID}\n坏码,91440704MA5ABCDEF0,企业,{GRID}\n",
        encoding="utf-8",
    )
    result = ledger_import(actor=system, kind="organisations", table=read_table_path(orgs))
    assert (result.inserted, result.skipped, result.rejected) == (1, 1, 1)
    assert Organisation.objects.dangerously_unscoped().get(credit_code=code).kind == "individual"
    things = tmp_path / "t.csv"
    things.write_text(
        f"部件编码,名称,经度,纬度\n4407040109999999,消火栓,{b.lon},{b.lat}\n", encoding="utf-8"
    )
    result = ledger_import(actor=system, kind="things", table=read_table_path(things))
    thing = Thing.objects.dangerously_unscoped().get(code="4407040109999999")
    assert (result.inserted, thing.major, thing.minor, thing.grid_code) == (1, "01", "09", GRID)


def test_template_first_row_holds_the_headers(tmp_path: Path) -> None:
    out = tmp_path / "t.xlsx"
    call_command("ledger", "template", "people", "--out", str(out))
    headers = [c.value for c in load_workbook(out).worksheets[0][1]]
    assert headers[:2] == ["姓名", "身份证号"]


def test_no_plaintext_id_number_or_phone_in_the_database_file(tmp_path: Path) -> None:
    """Import into a real SQLite file in a separate process, then search its bytes."""
    data_dir = tmp_path / "data"
    people = tmp_path / "p.csv"
    ids = [valid_id(600 + i, "19770707") for i in range(20)]
    phones = [f"139{7000_0000 + i:08d}" for i in range(20)]
    people.write_text(
        "姓名,身份证号,手机号码,网格编码\n"
        + "".join(f"人{i},{ids[i]},{phones[i]},{GRID}\n" for i in range(20)),
        encoding="utf-8",
    )
    import os

    env = {
        **os.environ,
        "WANGGE_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "wangge.settings",
    }
    env.pop("WANGGE_DATABASE_URL", None)
    code = (
        "import django, json; django.setup();"
        "from django.core.management import call_command; call_command('migrate', verbosity=0);"
        "from wangge.demo import geometry; from wangge.regions.services import grids_import;"
        "from wangge.core.scope import Scope;"
        "grids_import(actor=Scope.system(), data=json.dumps(geometry.build_unified()).encode());"
        f"call_command('ledger', 'import', 'people', {str(people)!r})"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    blobs = b"".join(p.read_bytes() for p in data_dir.glob("wangge.sqlite3*"))
    assert b"v1.k1." in blobs  # the rows are there, encrypted
    for value in ids + phones:
        assert value.encode() not in blobs, value


def test_update_never_touches_records_outside_the_scope(tmp_path: Path, user: Any) -> None:
    from wangge.core.scope import scope_for
    from wangge.ledger.models import Organisation

    street = scope_for(user("demo-street"))  # 礼乐街道
    outsider = Person.objects.dangerously_unscoped().filter(grid_code__startswith="440704001")[0]
    org = Organisation.objects.dangerously_unscoped().filter(grid_code__startswith="440704001")[0]
    people = tmp_path / "p.csv"
    people.write_text(
        f"姓名,身份证号,网格编码\n改名,{outsider.id_number},{GRID}\n", encoding="utf-8"
    )
    orgs = tmp_path / "o.csv"
    orgs.write_text(
        f"单位名称,统一社会信用代码,单位类型,网格编码\n改名,{org.credit_code},企业,{GRID}\n",
        encoding="utf-8",
    )

    p = ledger_import(
        actor=street, kind="people", table=read_table_path(people), on_duplicate="update"
    )
    o = ledger_import(
        actor=street, kind="organisations", table=read_table_path(orgs), on_duplicate="update"
    )

    assert (p.updated, p.skipped, o.updated, o.skipped) == (0, 1, 0, 1)
    # A person registered elsewhere is referred to the district, unnamed (finding 9).
    assert [w.code for w in p.warnings + o.warnings] == ["referred", "duplicate_elsewhere"]
    assert "440704001" not in str([w.message for w in p.warnings])  # where it is stays unsaid
    outsider.refresh_from_db()
    org.refresh_from_db()
    assert (outsider.name, outsider.grid_code[:9]) != ("改名", "440704003")
    assert org.name != "改名" and org.grid_code.startswith("440704001")


def _import(tmp_path: Path, actor: Any, text: str, kind: str = "people", **kw: Any) -> Any:
    path = tmp_path / f"{kind}.csv"
    path.write_text(text, encoding="utf-8")
    return ledger_import(actor=actor, kind=kind, table=read_table_path(path), **kw)


def test_a_number_registered_elsewhere_is_referred_without_saying_so(
    tmp_path: Path, user: Any
) -> None:
    """Security finding 9: the import told a grid worker that an ID number is registered
    elsewhere in the district; now the row goes to the district, and the warning is the same
    whether or not (and wherever) the number is registered."""
    from wangge.core.scope import scope_for
    from wangge.ledger.models import Referral

    outsider = Person.objects.dangerously_unscoped().filter(grid_code__startswith="440704001")[0]
    grid = scope_for(user("demo-grid"))
    result = _import(tmp_path, grid, f"姓名,身份证号,网格编码\n某人,{outsider.id_number},{GRID}\n")
    assert (result.inserted, result.skipped) == (0, 1)
    [warning] = result.warnings
    assert warning.code == "referred" and "登记" not in warning.message
    referral = Referral.objects.dangerously_unscoped().get()
    assert (referral.existing_id, referral.grid_code, referral.source) == (
        outsider.pk,
        GRID,
        "import",
    )
    assert AuditEntry.objects.filter(action="ledger.refer", details__rows=1).exists()


def test_special_groups_need_the_right_to_see_them(tmp_path: Path, user: Any) -> None:
    """Security finding 12: a grid leader without ledger.sensitive imported 吸毒人员."""
    from wangge.core.scope import scope_for

    text = f"姓名,身份证号,网格编码,特殊人群\n甲,{valid_id(801)},{GRID},吸毒人员\n"
    refused = _import(tmp_path, scope_for(user("demo-grid")), text)
    assert (refused.inserted, refused.rejected) == (0, 1)
    assert refused.errors[0].column == "特殊人群" and refused.errors[0].code == "not_allowed"
    assert not Person.objects.dangerously_unscoped().filter(name="甲").exists()
    allowed = _import(tmp_path, scope_for(user("demo-community")), text)
    assert allowed.inserted == 1
    person = Person.objects.dangerously_unscoped().get(name="甲")
    assert SensitiveTag.objects.dangerously_unscoped().filter(person=person).count() == 1


def test_a_household_or_estate_of_another_street_is_not_joined(tmp_path: Path, user: Any) -> None:
    """Security finding 8: a grid leader's row naming another street's household code joined
    it and became its head; an address row put a room into another street's building."""
    from wangge.core.scope import scope_for
    from wangge.ledger.models import Building, Room

    grid = scope_for(user("demo-grid"))
    theirs = Household.objects.dangerously_unscoped().filter(grid_code__startswith="440704001")[0]
    head_before = theirs.head_id
    people = _import(
        tmp_path,
        grid,
        f"姓名,身份证号,网格编码,户编号,与户主关系\n乙,{valid_id(802)},{GRID},{theirs.code},户主\n",
    )
    assert (people.inserted, people.rejected) == (0, 1) and people.errors[0].column == "户编号"
    assert "440704001" not in people.errors[0].message
    theirs.refresh_from_db()
    assert theirs.head_id == head_before
    building = Building.objects.dangerously_unscoped().filter(grid_code__startswith="440704001")[0]
    from wangge.regions.selectors import interior_point_unscoped

    lon, lat = interior_point_unscoped(GRID)
    rooms = Room.objects.dangerously_unscoped().count()
    addresses = _import(
        tmp_path,
        grid,
        "小区编码,小区名称,楼栋编码,楼栋名称,楼栋地址,经度,纬度,房屋编码\n"
        f"{building.estate.code},x,{building.code},x,x,{lon},{lat},{building.code}019999\n",
        kind="addresses",
    )
    assert addresses.rejected == 1 and {e.column for e in addresses.errors} == {
        "小区编码",
        "楼栋编码",
    }
    assert Room.objects.dangerously_unscoped().count() == rooms


def test_a_reimport_with_update_moves_the_version(tmp_path: Path, system: Any) -> None:
    """An update by import is a change like any other: a page still holding the old version
    is refused instead of silently writing over it."""
    from wangge.ledger.models import LedgerChange

    person = Person.objects.dangerously_unscoped().filter(grid_code=GRID)[0]
    before = person.version
    result = _import(
        tmp_path,
        system,
        f"姓名,身份证号,网格编码,工作单位\n{person.name},{person.id_number},{GRID},新单位\n",
        on_duplicate="update",
    )
    assert result.updated == 1
    person.refresh_from_db()
    assert (person.version, person.employer) == (before + 1, "新单位")
    change = LedgerChange.objects.dangerously_unscoped().get(
        kind="person", record_id=person.pk, version=person.version
    )
    assert change.action == "import" and "employer" in change.fields


def test_a_new_person_field_needs_only_its_column(monkeypatch: Any) -> None:
    """The fast path writes every plain person field of the one field list."""
    from wangge.ledger.fields import person_plain_fields
    from wangge.ledger.importers.people import PeopleImporter

    plain = {f.attr for f in person_plain_fields()}
    assert plain <= set(PeopleImporter.FIELDS)
    assert {"employer", "education", "population_type"} <= plain
