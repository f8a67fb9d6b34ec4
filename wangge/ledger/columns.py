"""Spreadsheet columns of the ledger imports: Chinese headers, aliases, typed parsers."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from wangge.core.tabular import CellError, Column, parse_bool, parse_choice, parse_date, parse_int
from wangge.core.validators import InvalidCode, parse_credit_code, parse_id_number, parse_mobile
from wangge.ledger.models import (
    CareTag,
    OrganisationKind,
    PopulationType,
    RoomUse,
    SpecialTag,
    ThingState,
)

CARE_LABELS: dict[str, str] = {
    CareTag.ELDERLY_ALONE: "独居老人",
    CareTag.PREGNANT: "孕妇",
    CareTag.CHRONIC: "长期病患",
    CareTag.DISABLED: "残疾人",
    CareTag.SUBSISTENCE: "低保",
    CareTag.EXTREME_POVERTY: "特困",
    CareTag.CHILD: "留守困境儿童",
    CareTag.ENTITLED: "优抚对象",
    CareTag.ELDERLY: "高龄老人",
}
SPECIAL_LABELS: dict[str, str] = {
    SpecialTag.RELEASED: "刑满释放",
    SpecialTag.CORRECTION: "社区矫正",
    SpecialTag.MENTAL: "严重精神障碍患者",
    SpecialTag.DRUG: "吸毒人员",
    SpecialTag.HIV_RISK: "艾滋病危险人员",
    SpecialTag.YOUTH: "重点青少年",
}
POPULATION_LABELS: dict[str, str] = {
    PopulationType.REGISTERED: "户籍人口",
    PopulationType.FLOATING: "流动人口",
    PopulationType.UNSETTLED: "未落常口",
    PopulationType.OVERSEAS: "境外人员",
    PopulationType.LODGING: "寄住人口",
    PopulationType.OTHER: "其他",
}
KIND_LABELS: dict[str, str] = {
    OrganisationKind.ENTERPRISE: "企业",
    OrganisationKind.INDIVIDUAL: "个体工商户",
    OrganisationKind.SOCIAL: "社会组织",
    OrganisationKind.PUBLIC: "事业单位",
    OrganisationKind.PARTY: "党组织",
}
USE_LABELS: dict[str, str] = {
    RoomUse.OWN: "自住",
    RoomUse.RENTED: "出租",
    RoomUse.VACANT: "空置",
    RoomUse.BUSINESS: "经营",
}
STATE_LABELS: dict[str, str] = {
    ThingState.GOOD: "完好",
    ThingState.DAMAGED: "破损",
    ThingState.LOST: "丢失",
    ThingState.ABANDONED: "废弃",
    ThingState.REMOVED: "移除",
}
GENDER_LABELS: dict[str, str] = {"male": "男", "female": "女"}


def _accept(labels: dict[Any, str], extra: dict[str, str] | None = None) -> dict[str, str]:
    accepted = {label: str(value) for value, label in labels.items()}
    accepted.update({str(value): str(value) for value in labels})
    accepted.update(extra or {})
    return accepted


def choice(labels: dict[Any, str], extra: dict[str, str] | None = None) -> Any:
    """A cell holding one of `labels` (the label or the stored value); the parser carries its
    choices so that the pages' forms and the API offer the same ones (ledger/fields.py)."""
    parse = parse_choice(_accept(labels, extra))
    parse.widget = "select"  # type: ignore[attr-defined]
    parse.choices = {str(k): v for k, v in labels.items()}  # type: ignore[attr-defined]
    return parse


def tag_list(labels: dict[Any, str]) -> Any:
    """A cell like "独居老人、低保" → ["elderly_alone", "subsistence"]."""
    accepted = _accept(labels)

    def parse(text: str) -> list[str]:
        parts = [
            p.strip()
            for p in text.replace("，", ",").replace("、", ",").replace(";", ",").split(",")
        ]
        tags = []
        for part in parts:
            if not part:
                continue
            if part not in accepted:
                raise CellError(
                    "invalid_tag",
                    _("%(value)s is not one of: %(choices)s.")
                    % {"value": part, "choices": "、".join(labels.values())},
                )
            tags.append(accepted[part])
        return sorted(set(tags))

    parse.widget = "tags"  # type: ignore[attr-defined]
    parse.choices = {str(k): v for k, v in labels.items()}  # type: ignore[attr-defined]
    return parse


def id_number_cell(text: str) -> Any:
    try:
        return parse_id_number(text)
    except InvalidCode as exc:
        raise CellError(exc.code, exc.message) from None


def mobile_cell(text: str) -> str:
    try:
        return parse_mobile(text)
    except InvalidCode as exc:
        raise CellError(exc.code, exc.message) from None


def credit_cell(text: str) -> str:
    try:
        return parse_credit_code(text)
    except InvalidCode as exc:
        raise CellError(exc.code, exc.message) from None


def grid_code_cell(text: str) -> str:
    if not (len(text) == 15 and text.isdigit()):
        raise CellError("invalid_grid_code", _("A grid code has 15 digits."))
    return text


def coordinate(low: float, high: float) -> Any:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise CellError(
                "invalid_number", _("%(value)s is not a number.") % {"value": text}
            ) from None
        if not low <= value <= high:
            raise CellError(
                "out_of_range",
                _("%(value)s is outside %(low)s–%(high)s.")
                % {"value": text, "low": low, "high": high},
            )
        return value

    parse.widget = "decimal"  # type: ignore[attr-defined]
    return parse


def digits(length: tuple[int, ...], what: str) -> Any:
    def parse(text: str) -> str:
        if not (text.isdigit() and len(text) in length):
            raise CellError(
                "invalid_code",
                _("%(what)s must have %(n)s digits.")
                % {"what": what, "n": " / ".join(map(str, length))},
            )
        return text

    return parse


LOCATION = [
    Column("grid_code", "网格编码", ("所属网格编码", "网格代码", "网格号"), False, grid_code_cell),
    Column("lon", "经度", ("lon", "lng", "longitude"), False, coordinate(73, 136)),
    Column("lat", "纬度", ("lat", "latitude"), False, coordinate(3, 54)),
]

PEOPLE = [
    Column("name", "姓名", ("名字",), True),
    Column(
        "id_number",
        "身份证号",
        ("公民身份号码", "身份证号码", "证件号码", "身份证"),
        True,
        id_number_cell,
    ),
    Column("gender", "性别", (), False, choice(GENDER_LABELS, {"1": "male", "2": "female"})),
    Column("ethnicity", "民族", ()),
    Column("birth_date", "出生日期", ("出生年月日",), False, parse_date),
    Column("phone", "手机号码", ("联系电话", "手机号", "电话", "手机"), False, mobile_cell),
    Column("registered_address", "户籍地址", ("户籍地详址", "户籍所在地")),
    Column("current_address", "现住地址", ("现居住地址", "居住地址", "现住址")),
    Column("room_code", "地址编码", ("标准地址编码", "房屋编码"), False, digits((24,), "地址编码")),
    *LOCATION,
    Column(
        "population_type",
        "人口类型",
        ("人员类型",),
        False,
        choice(POPULATION_LABELS, {"常住人口": "1", "户籍": "1", "流动": "2", "境外": "4"}),
    ),
    Column("separated", "人户分离", ("是否人户分离",), False, parse_bool),
    Column("move_in", "迁入日期", ("来本地日期", "入住日期"), False, parse_date),
    Column("expected_leave", "预计离开日期", ("拟离开日期",), False, parse_date),
    Column("employer", "工作单位", ("服务处所", "单位")),
    Column("occupation", "职业", ()),
    Column("marital_status", "婚姻状况", ()),
    Column("education", "文化程度", ("学历",)),
    Column("political_status", "政治面貌", ()),
    Column("household", "户编号", ("户号", "家庭编号")),
    Column("relation", "与户主关系", ("关系",)),
    Column("care_tags", "关爱对象", ("关爱类别",), False, tag_list(CARE_LABELS)),
    Column("special_tags", "特殊人群", ("特殊人群类别",), False, tag_list(SPECIAL_LABELS)),
]

ORGANISATIONS = [
    Column("name", "单位名称", ("名称", "组织名称", "企业名称"), True),
    Column("credit_code", "统一社会信用代码", ("信用代码", "社会信用代码"), False, credit_cell),
    Column(
        "kind",
        "单位类型",
        ("类型", "组织类型"),
        True,
        choice(KIND_LABELS, {"个体户": "individual"}),
    ),
    Column("legal_representative", "法定代表人", ("负责人", "法人")),
    Column("phone", "联系电话", ("手机号码", "电话"), False, mobile_cell),
    Column("address", "地址", ("经营地址", "单位地址")),
    Column("room_code", "地址编码", ("标准地址编码",), False, digits((24,), "地址编码")),
    *LOCATION,
    Column("employees", "从业人数", ("员工人数", "人数"), False, parse_int),
    Column("key_tags", "重点场所类型", ("重点场所",)),
]

ADDRESSES = [
    Column("estate_code", "小区编码", (), True, digits((15,), "小区编码")),
    Column("estate_name", "小区名称", ("小区",), True),
    Column("building_code", "楼栋编码", (), True, digits((18,), "楼栋编码")),
    Column("building_name", "楼栋名称", ("楼栋",), True),
    Column("address", "楼栋地址", ("地址",), True),
    Column("lon", "经度", ("lon", "lng"), True, coordinate(73, 136)),
    Column("lat", "纬度", ("lat",), True, coordinate(3, 54)),
    Column("floors", "层数", ("楼层数",), False, parse_int),
    Column("units", "单元数", (), False, parse_int),
    Column("room_code", "房屋编码", ("地址编码",), False, digits((24,), "房屋编码")),
    Column("unit", "单元", (), False, parse_int),
    Column("number", "房号", ("门牌号",)),
    Column("floor", "所在楼层", ("楼层",), False, parse_int),
    Column("area_m2", "建筑面积", ("面积",), False, coordinate(0, 100000)),
    Column("use", "房屋用途", ("用途",), False, choice(USE_LABELS)),
]

THINGS = [
    Column("code", "部件编码", ("编码", "标识码"), True, digits((16, 17), "部件编码")),
    Column("name", "名称", ("部件名称",), True),
    Column("responsible_unit", "责任单位", ("主管单位", "养护单位")),
    Column("state", "状态", ("部件状态",), False, choice(STATE_LABELS)),
    Column("lon", "经度", ("lon", "lng"), True, coordinate(73, 136)),
    Column("lat", "纬度", ("lat",), True, coordinate(3, 54)),
    Column("note", "备注", ()),
]

KINDS = {"people": PEOPLE, "organisations": ORGANISATIONS, "addresses": ADDRESSES, "things": THINGS}
