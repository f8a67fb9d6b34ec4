"""Rosters in Excel: the template, import (dry run, all-or-nothing by default) and export.

A roster workbook has three sheets: 网格员 (one row per person per grid role), 党组织 (one row per
grid) and 党员 (one row per registered party member). A CSV file holds the 网格员 sheet only.
Rows are numbered as the spreadsheet shows them (header = 1).

Both directions decide inside: an import needs teams.edit, and each row is checked against the
grant covering its grid (a row outside is rejected with its row, column and reason, never
dropped) before it goes through the same services as the pages and the API; an export holds
what the actor sees, and an unmasked one only the rows the actor may reveal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from wangge.core.audit import audit_record
from wangge.core.errors import PermissionDenied, ValidationFailed
from wangge.core.models import Department
from wangge.core.personal import REVEAL_REASON_MIN, mask_id_number, mask_phone
from wangge.core.roles import Perm
from wangge.core.scope import as_scope, require_any
from wangge.core.tabular import (
    CellError,
    Column,
    ImportResult,
    ParsedRow,
    RejectedRows,
    RowError,
    error_workbook,
    iter_parsed,
    parse_bool,
    parse_choice,
    parse_date,
    read_table,
    workbook_sheets,
    write_xlsx,
)
from wangge.core.validators import InvalidCode, parse_id_number, parse_mobile
from wangge.regions.models import Level, Region
from wangge.teams import services
from wangge.teams.models import (
    Assignment,
    Gender,
    PartyMember,
    PartyMemberCategory,
    PartyOrganisation,
    PartyOrgKind,
    PoliticalStatus,
    TeamRole,
)

# Rows per sheet. A roster is imported inside the request, all rows in one transaction: a
# district's roster is a few thousand rows, and this keeps a request to minutes at worst.
MAX_ROWS = 20_000
STAFF_SHEET = "网格员"
ORG_SHEET = "党组织"
MEMBER_SHEET = "党员"

ROLE_LABELS = {
    TeamRole.LEADER: "网格长",
    TeamRole.FULL_TIME: "专职网格员",
    TeamRole.SPECIALIST: "专业网格员",
    TeamRole.PART_TIME: "兼职网格员",
}
GENDER_LABELS = {Gender.MALE: "男", Gender.FEMALE: "女"}
POLITICAL_LABELS = {
    PoliticalStatus.PARTY_MEMBER: "中共党员",
    PoliticalStatus.PROBATIONARY: "中共预备党员",
    PoliticalStatus.LEAGUE_MEMBER: "共青团员",
    PoliticalStatus.OTHER_PARTY: "民主党派",
    PoliticalStatus.MASSES: "群众",
}
KIND_LABELS = {PartyOrgKind.BRANCH: "党支部", PartyOrgKind.GROUP: "党小组"}
CATEGORY_LABELS = {
    PartyMemberCategory.DUAL_REGISTRATION: "双报到在职党员",
    PartyMemberCategory.RETIRED_CADRE: "离退休干部党员",
    PartyMemberCategory.VETERAN: "退役军人党员",
    PartyMemberCategory.PROPERTY_COMPANY: "物业服务企业党员",
    PartyMemberCategory.RESIDENT: "小区党员",
    PartyMemberCategory.OTHER: "其他",
}


def _labels(labels: dict[Any, str], extra: dict[str, str] | None = None) -> dict[str, str]:
    accepted = {label: str(value) for value, label in labels.items()}
    accepted.update({str(value): str(value) for value in labels})
    accepted.update(extra or {})
    return accepted


def _grid_code(text: str) -> str:
    if not (len(text) == 15 and text.isdigit()):
        raise CellError("invalid_grid_code", _("A grid code has 15 digits."))
    return text


def _id_number(text: str) -> str:
    try:
        return parse_id_number(text).value
    except InvalidCode as exc:
        raise CellError(exc.code, exc.message) from None


def _mobile(text: str) -> str:
    try:
        return parse_mobile(text)
    except InvalidCode as exc:
        raise CellError(exc.code, exc.message) from None


def _department(text: str) -> Department:
    found = (
        Department.objects.filter(name=text).first() or Department.objects.filter(code=text).first()
    )
    if found is None:
        names = "、".join(Department.objects.values_list("name", flat=True))
        raise CellError(
            "unknown_department",
            _("Unknown department %(value)s; known: %(names)s.") % {"value": text, "names": names},
        )
    return found


STAFF_COLUMNS = [
    Column("grid_code", "网格编码", ("网格代码", "所属网格编码", "网格号"), True, _grid_code),
    Column("grid_name", "网格名称", ("所属网格",)),
    Column(
        "role",
        "角色",
        ("岗位", "网格员类型", "人员类别", "职务"),
        True,
        parse_choice(
            _labels(ROLE_LABELS, {"专职": "full_time", "专业": "specialist", "兼职": "part_time"})
        ),
    ),
    Column("name", "姓名", ("名字",), True),
    Column("gender", "性别", (), False, parse_choice(_labels(GENDER_LABELS))),
    Column(
        "id_number",
        "身份证号",
        ("公民身份号码", "身份证号码", "证件号码", "身份证"),
        True,
        _id_number,
    ),
    Column("phone", "手机号码", ("联系电话", "手机号", "电话", "手机"), False, _mobile),
    Column(
        "political_status",
        "政治面貌",
        (),
        False,
        parse_choice(_labels(POLITICAL_LABELS, {"党员": "party_member", "团员": "league_member"})),
    ),
    Column("employer", "工作单位", ("单位",)),
    Column("department", "派出部门", ("所属部门", "部门", "派驻部门"), False, _department),
    Column("valid_from", "任职日期", ("开始日期", "起始日期", "上岗日期"), True, parse_date),
    Column("valid_to", "离任日期", ("结束日期", "离岗日期"), False, parse_date),
]
ORG_COLUMNS = [
    Column("grid_code", "网格编码", ("网格代码",), True, _grid_code),
    Column("kind", "组织类型", ("类型",), True, parse_choice(_labels(KIND_LABELS))),
    Column("name", "组织名称", ("名称", "党组织名称"), True),
    Column("secretary", "书记（组长）姓名", ("书记姓名", "组长姓名", "书记", "党支部书记")),
    Column("parent_name", "上级党组织", ("所属党组织",)),
]
MEMBER_COLUMNS = [
    Column("grid_code", "网格编码", ("网格代码",), True, _grid_code),
    Column("name", "姓名", (), True),
    Column("gender", "性别", (), False, parse_choice(_labels(GENDER_LABELS))),
    Column("phone", "手机号码", ("联系电话", "手机号", "电话"), False, _mobile),
    Column("category", "党员类别", ("类别",), True, parse_choice(_labels(CATEGORY_LABELS))),
    Column("home_organisation", "原党组织", ("所在党组织", "组织关系所在党组织")),
    Column("formal", "是否正式党员", ("正式党员",), False, parse_bool),
    Column("registered_on", "报到日期", ("登记日期",), True, parse_date),
]


@dataclass
class RosterResult(ImportResult):
    rejected_rows: list[RejectedRows] = field(default_factory=list)

    def reject(self, sheet: str, headers: list[str], row: ParsedRow) -> None:
        for e in row.errors:
            e.sheet = sheet
        self.errors.extend(row.errors)
        if not self.rejected_rows or self.rejected_rows[-1].sheet != sheet:
            self.rejected_rows.append(RejectedRows(sheet, headers))
        self.rejected_rows[-1].rows.append(row)

    def error_file(self) -> bytes:
        return error_workbook(self.rejected_rows)


def may_import(actor: Any) -> bool:
    """Whether the actor may import at all; each row still needs teams.edit over its grid."""
    return as_scope(actor).has(Perm.TEAMS_EDIT)


def may_unmask(actor: Any) -> bool:
    """Whether the actor may export unmasked at all; the export then holds only the rows a
    grant holding personal.reveal covers."""
    return as_scope(actor).has(Perm.PERSONAL_REVEAL)


def template(*, actor: Any) -> bytes:
    """An empty roster workbook with the three sheets and a sheet explaining the columns
    (NotFound without teams.view)."""
    require_any(actor, Perm.TEAMS_VIEW)
    help_rows = []
    for sheet, columns in (
        (STAFF_SHEET, STAFF_COLUMNS),
        (ORG_SHEET, ORG_COLUMNS),
        (MEMBER_SHEET, MEMBER_COLUMNS),
    ):
        for col in columns:
            help_rows.append(
                [sheet, col.header, "是" if col.required else "否", "、".join(col.aliases)]
            )
    help_rows.append(["网格员", "角色", "", "、".join(ROLE_LABELS.values())])
    help_rows.append(["网格员", "政治面貌", "", "、".join(POLITICAL_LABELS.values())])
    help_rows.append(["党员", "党员类别", "", "、".join(CATEGORY_LABELS.values())])
    return write_xlsx(
        [
            (STAFF_SHEET, [c.header for c in STAFF_COLUMNS], []),
            (ORG_SHEET, [c.header for c in ORG_COLUMNS], []),
            (MEMBER_SHEET, [c.header for c in MEMBER_COLUMNS], []),
            ("说明", ["工作表", "列", "必填", "可用的其他列名 / 可选值"], help_rows),
        ]
    )


def _sheets(data: bytes, filename: str) -> list[tuple[str, Any]]:
    if filename.lower().endswith(".csv"):
        return [(STAFF_SHEET, read_table(data, filename, max_rows=MAX_ROWS))]
    try:
        names = workbook_sheets(data)
    except ValidationFailed as exc:
        if exc.code != "bad_workbook":
            raise
        names = []  # read_table below says what is wrong with it
    sheets = []
    if names and STAFF_SHEET not in names and ORG_SHEET not in names and MEMBER_SHEET not in names:
        # A single-sheet workbook without our sheet names: read its first sheet as 网格员.
        return [(STAFF_SHEET, read_table(data, filename, max_rows=MAX_ROWS))]
    for name in (STAFF_SHEET, ORG_SHEET, MEMBER_SHEET):
        if name in names:
            sheets.append((name, read_table(data, filename, sheet=name, max_rows=MAX_ROWS)))
    if not sheets:
        sheets.append((STAFF_SHEET, read_table(data, filename, max_rows=MAX_ROWS)))
    return sheets


def roster_import(
    *,
    actor: Any,
    data: bytes,
    filename: str,
    dry_run: bool = False,
    all_or_nothing: bool = True,
) -> RosterResult:
    """Import a roster (NotFound without teams.edit). A row whose grid does not exist, or whose
    team the actor may not change (`services.may_edit_team`), is rejected as an unknown grid,
    the same answer for both.

    All rows run inside one transaction; with `dry_run`, or when `all_or_nothing` and any row
    was rejected, the transaction is rolled back: the counts say what would have happened and
    `stored` is False. Refused ID numbers (`services.NotRegistrableHere`) are audited after it,
    so that the rollback keeps them.
    """
    scope = require_any(actor, Perm.TEAMS_EDIT)
    result = RosterResult(dry_run=dry_run)
    sheets = _sheets(data, filename)
    grid_codes = {
        code
        for code in Region.objects.dangerously_unscoped()
        .filter(level=Level.GRID, valid_to=None)
        .values_list("code", flat=True)
        if services.may_edit_team(scope, code)
    }
    refusals: list[services.NotRegistrableHere] = []

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            for sheet, table in sheets:
                columns = {STAFF_SHEET: STAFF_COLUMNS, ORG_SHEET: ORG_COLUMNS}.get(
                    sheet, MEMBER_COLUMNS
                )
                handler = {STAFF_SHEET: _staff_row, ORG_SHEET: _org_row}.get(sheet, _member_row)
                for row in iter_parsed(table, columns):
                    number, values, errors = row.number, row.values, row.errors
                    result.total += 1
                    if not errors and values["grid_code"] not in grid_codes:
                        errors = [
                            RowError(
                                number,
                                "网格编码",
                                "unknown_grid",
                                _("Grid %(code)s does not exist or is outside your scope.")
                                % {"code": values["grid_code"]},
                            )
                        ]
                    if not errors:
                        try:
                            with transaction.atomic():
                                outcome = handler(scope, values)
                        except ValidationFailed as exc:
                            if isinstance(exc, services.NotRegistrableHere):
                                refusals.append(exc)
                            errors = [
                                RowError(number, _error_column(exc.code), exc.code, exc.message)
                            ]
                    if errors:
                        result.rejected += 1
                        row.errors = errors
                        result.reject(sheet, table.headers, row)
                        continue
                    setattr(result, outcome, getattr(result, outcome) + 1)
            if dry_run or (all_or_nothing and result.rejected):
                raise Rollback
            result.stored = True
            audit_record(
                actor=actor,
                action="teams.import",
                object_type="roster",
                object_id=filename[:64],
                details={k: v for k, v in result.as_dict().items() if k != "errors"},
            )
    except Rollback:
        result.stored = False
    for refused in refusals:
        services.staff_refusal_record(actor=scope, refused=refused)
    return result


def _error_column(code: str) -> str:
    return {
        "too_many_grids": "网格编码",
        "start_before_current": "任职日期",
        "end_before_start": "离任日期",
        "department_required": "派出部门",
        "id_number_not_here": "身份证号",
        "unknown_secretary": "书记（组长）姓名",
    }.get(code, "")


def _staff_row(actor: Any, v: dict[str, Any]) -> str:
    role = v["role"]
    if role == TeamRole.SPECIALIST and v["department"] is None:
        raise ValidationFailed(
            _("A specialist grid worker must name the department that sends them."),
            code="department_required",
        )
    data = services.StaffData(
        name=v["name"],
        gender=v["gender"] or "",
        phone=v["phone"] or "",
        id_number=v["id_number"],
        political_status=v["political_status"] or "",
        employer=v["employer"] or "",
        department=v["department"],
    )
    done = services.staff_assign(
        actor=actor,
        grid_code=v["grid_code"],
        data=data,
        role=role,
        valid_from=v["valid_from"],
        department=v["department"] if role == TeamRole.SPECIALIST else None,
    )
    ended = False
    if v.get("valid_to"):
        services.assignment_end(
            actor=actor, assignment_id=done.assignment.pk, valid_to=v["valid_to"]
        )
        ended = True
    if done.created:
        return "inserted"
    return "updated" if done.changed or ended else "skipped"


def _org_row(actor: Any, v: dict[str, Any]) -> str:
    secretary = None
    if v["secretary"]:
        matches = [
            a.staff
            for a in Assignment.objects.visible_to(actor, Perm.TEAMS_EDIT)
            .filter(grid_code=v["grid_code"], valid_to=None, staff__name=v["secretary"])
            .select_related("staff")
        ]
        unique = {s.pk: s for s in matches}
        if len(unique) != 1:
            raise ValidationFailed(
                _("%(name)s is not (or not uniquely) a current member of this grid's team.")
                % {"name": v["secretary"]},
                code="unknown_secretary",
            )
        secretary = next(iter(unique.values()))
    existed = (
        PartyOrganisation.objects.visible_to(actor, Perm.TEAMS_EDIT)
        .filter(grid_code=v["grid_code"])
        .exists()
    )
    _org, changed = services.party_org_save(
        actor=actor,
        grid_code=v["grid_code"],
        kind=v["kind"],
        name=v["name"],
        secretary=secretary,
        parent_name=v["parent_name"] or "",
    )
    if not existed:
        return "inserted"
    return "updated" if changed else "skipped"


def _member_row(actor: Any, v: dict[str, Any]) -> str:
    data = services.PartyMemberData(
        name=v["name"],
        category=v["category"],
        registered_on=v["registered_on"],
        gender=v["gender"] or "",
        phone=v["phone"] or "",
        home_organisation=v["home_organisation"] or "",
        formal=True if v["formal"] is None else v["formal"],
    )
    _member, outcome = services.party_member_save(actor=actor, grid_code=v["grid_code"], data=data)
    return {"inserted": "inserted", "updated": "updated"}.get(outcome, "skipped")


def roster_export(*, actor: Any, unmasked: bool = False, reason: str = "") -> bytes:
    """The current rosters the actor sees as a workbook that imports back unchanged (when
    unmasked). NotFound without teams.view; a department grant gets the specialists it sent.

    Masked by default. An unmasked export needs personal.reveal and a reason, holds only the
    rows a grant holding personal.reveal covers (who leads one grid and is a grid worker in
    another gets the grid they lead), and is audited with its reason; a refusal is audited too.
    """
    scope = require_any(actor, Perm.TEAMS_VIEW)
    if unmasked:
        _unmasked_check(scope, reason)
    names = dict(
        Region.objects.dangerously_unscoped()
        .filter(level=Level.GRID, valid_to=None)
        .values_list("code", "name")
    )
    staff_rows = []
    for a in (
        Assignment.objects.visible_to(scope, Perm.TEAMS_VIEW)
        .filter(_revealable(scope, Assignment, unmasked), valid_to=None)
        .select_related("staff", "staff__department", "department")
        .order_by("grid_code", "role", "valid_from", "staff__name", "id")
    ):
        s = a.staff
        staff_rows.append(
            [
                a.grid_code,
                names.get(a.grid_code, ""),
                ROLE_LABELS[TeamRole(a.role)],
                s.name,
                GENDER_LABELS.get(Gender(s.gender), "") if s.gender else "",
                s.id_number if unmasked else mask_id_number(s.id_number),
                (s.phone if unmasked else mask_phone(s.phone)) if s.phone else "",
                POLITICAL_LABELS[PoliticalStatus(s.political_status)] if s.political_status else "",
                s.employer,
                (a.department or s.department).name if (a.department or s.department) else "",
                a.valid_from,
                "",
            ]
        )
    org_rows = [
        [
            o.grid_code,
            KIND_LABELS[PartyOrgKind(o.kind)],
            o.name,
            o.secretary.name if o.secretary else "",
            o.parent_name,
        ]
        for o in PartyOrganisation.objects.visible_to(scope, Perm.TEAMS_VIEW)
        .filter(_revealable(scope, PartyOrganisation, unmasked))
        .select_related("secretary")
        .order_by("grid_code")
    ]
    member_rows = [
        [
            m.grid_code,
            m.name,
            GENDER_LABELS.get(Gender(m.gender), "") if m.gender else "",
            (m.phone if unmasked else mask_phone(m.phone)) if m.phone else "",
            CATEGORY_LABELS[PartyMemberCategory(m.category)],
            m.home_organisation,
            "是" if m.formal else "否",
            m.registered_on,
        ]
        for m in PartyMember.objects.visible_to(scope, Perm.TEAMS_VIEW)
        .filter(_revealable(scope, PartyMember, unmasked))
        .order_by("grid_code", "name", "id")
    ]
    audit_record(
        actor=scope,
        action="teams.export",
        object_type="roster",
        details={
            "unmasked": unmasked,
            "reason": reason[:500],
            "rows": len(staff_rows) + len(org_rows) + len(member_rows),
        },
    )
    return write_xlsx(
        [
            (STAFF_SHEET, [c.header for c in STAFF_COLUMNS], staff_rows),
            (ORG_SHEET, [c.header for c in ORG_COLUMNS], org_rows),
            (MEMBER_SHEET, [c.header for c in MEMBER_COLUMNS], member_rows),
        ]
    )


def _revealable(scope: Any, model: Any, unmasked: bool) -> Q:
    """Of the rows the actor sees, those an unmasked export may hold: the ones a grant holding
    personal.reveal covers (all of them for a masked export)."""
    return scope.q(Perm.PERSONAL_REVEAL, model=model) if unmasked else Q()


def _unmasked_check(scope: Any, reason: str) -> None:
    if not may_unmask(scope):
        audit_record(
            actor=scope,
            action="teams.export",
            object_type="roster",
            outcome="denied",
            details={"unmasked": True},
        )
        raise PermissionDenied(_("Your role may not export full personal data."))
    if len(reason.strip()) < REVEAL_REASON_MIN:
        raise ValidationFailed(
            _("Give a reason of at least %(n)d characters.") % {"n": REVEAL_REASON_MIN},
            code="reason_required",
        )
