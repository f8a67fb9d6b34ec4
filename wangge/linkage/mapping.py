"""A department's headers → the ledger's fields.

Each department names its columns its own way (公民身份号码 / 身份证号 / 证件号码 …). `suggest`
proposes a mapping from the headers of a file; the source keeps the confirmed one, and the next
file with the same headers uses it without asking.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wangge.core.errors import ValidationFailed


@dataclass(frozen=True)
class Field:
    key: str
    label: object  # lazy text
    synonyms: tuple[str, ...]
    required: bool = False


PEOPLE = (
    Field(
        "name",
        pgettext_lazy("person", "Name"),
        ("姓名", "名字", "人员姓名", "户主姓名", "老人姓名", "患者姓名", "居民姓名"),
        True,
    ),
    Field(
        "id_number",
        _("ID number"),
        ("公民身份号码", "身份证号", "身份证号码", "证件号码", "身份证", "证件号", "居民身份证号"),
    ),
    Field("gender", _("Gender"), ("性别",)),
    Field("birth_date", _("Birth date"), ("出生日期", "出生年月", "生日", "出生年月日")),
    Field("phone", _("Phone"), ("联系电话", "手机", "手机号", "手机号码", "电话", "联系方式")),
    Field(
        "address",
        _("Address"),
        ("住址", "居住地址", "现住址", "家庭住址", "现居住地址", "地址", "详细地址", "居住地"),
    ),
    Field("registered_address", _("Registered address"), ("户籍地址", "户籍地", "户口所在地")),
    Field(
        "status",
        pgettext_lazy("linkage field", "Status on the list"),
        ("状态", "补贴状态", "享受状态", "类别", "病种"),
    ),
)

ORGANISATIONS = (
    Field(
        "name",
        _("Name"),
        ("名称", "企业名称", "单位名称", "主体名称", "商户名称", "字号名称"),
        True,
    ),
    Field(
        "credit_code",
        _("Unified social credit code"),
        ("统一社会信用代码", "信用代码", "社会信用代码", "注册号", "统一代码"),
    ),
    Field(
        "legal_representative",
        _("Legal representative"),
        ("法定代表人", "法人", "法人代表", "负责人", "经营者", "法定代表人（负责人）"),
    ),
    Field("phone", _("Phone"), ("联系电话", "电话", "手机", "联系方式")),
    Field(
        "address", _("Address"), ("住所", "经营场所", "地址", "注册地址", "经营地址", "详细地址")
    ),
    Field(
        "status",
        pgettext_lazy("linkage field", "Status on the list"),
        ("登记状态", "状态", "经营状态"),
    ),
)

FIELDS = {"people": PEOPLE, "organisations": ORGANISATIONS}


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text or ""))
    return re.sub(r"[\s:：*＊()（）\[\]【】]", "", text).lower()


def suggest(kind: str, headers: list[str]) -> dict[str, str]:
    """field → header, for the headers that match a field's name or synonyms (exactly after
    folding, else the header containing a synonym). Each header serves one field at most."""
    keyed = [(h, _key(h)) for h in headers if str(h or "").strip()]
    used: set[str] = set()
    mapping: dict[str, str] = {}
    for exact in (True, False):
        for field in FIELDS[kind]:
            if field.key in mapping:
                continue
            names = [_key(s) for s in field.synonyms]
            for header, key in keyed:
                if header in used:
                    continue
                if (key in names) if exact else any(n and n in key for n in names):
                    mapping[field.key] = header
                    used.add(header)
                    break
    return mapping


def check(kind: str, mapping: dict[str, str], headers: list[str]) -> dict[str, str]:
    """The mapping, if every field it names is known and every header it names is in the file
    and the required fields are there; otherwise one message naming every problem."""
    fields = {f.key: f for f in FIELDS[kind]}
    problems = []
    for key, header in mapping.items():
        if key not in fields:
            problems.append(str(_("unknown field %(field)s") % {"field": key}))
        elif header not in headers:
            problems.append(
                str(_("the file has no column %(header)s (for %(field)s)"))
                % {"header": header, "field": fields[key].label}
            )
    for field in FIELDS[kind]:
        if field.required and field.key not in mapping:
            problems.append(str(_("no column holds %(field)s")) % {"field": field.label})
    if problems:
        raise ValidationFailed(
            code="bad_mapping",
            message=str(_("The columns could not be matched: %(problems)s"))
            % {"problems": "；".join(problems)},
            details={"headers": headers},
        )
    return dict(mapping)


def labels(kind: str) -> list[tuple[str, str, bool]]:
    return [(f.key, str(f.label), f.required) for f in FIELDS[kind]]
