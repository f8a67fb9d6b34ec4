"""The seeded category tree (`domain.md` §3), written by migration 0002 and editable afterwards.

Each minor category: code, name, department, self-resolve (小事不出网格), public, and limits
(accept, handle, verify) as (amount, unit) in working time. Limits follow the examples in the
local standards: exposed refuse 4 working hours, dirty road 5 hours, illegal construction 15
working days, 12345 default 5 working days, petitions routed in 15 and closed in 60 days.
"""

from __future__ import annotations

from typing import Any

H, D, M = "hour", "day", "minute"

# (code, name, public, [(code, name, department, self_resolve, accept, handle, verify)])
CATEGORIES: list[tuple[str, str, bool, list[tuple[Any, ...]]]] = [
    ("01", "市容环境", True, [
        ("0101", "私搭乱建", "chengguan", False, (2, H), (15, D), (30, M)),
        ("0102", "暴露垃圾", "chengguan", True, (1, H), (4, H), (30, M)),
        ("0103", "道路不洁", "chengguan", True, (1, H), (5, H), (30, M)),
        ("0104", "水域不洁", "chengguan", False, (2, H), (1, D), (30, M)),
    ]),
    ("02", "宣传广告", True, [
        ("0201", "非法小广告", "chengguan", True, (2, H), (1, D), (30, M)),
        ("0202", "违规户外广告", "chengguan", False, (2, H), (5, D), (30, M)),
    ]),
    ("03", "施工管理", True, [
        ("0301", "施工噪音", "chengguan", False, (1, H), (2, D), (30, M)),
        ("0302", "道路占挖", "chengguan", False, (2, H), (3, D), (30, M)),
        ("0303", "施工扬尘", "chengguan", False, (1, H), (1, D), (30, M)),
    ]),
    ("04", "街面秩序", True, [
        ("0401", "无照经营游商", "chengguan", True, (1, H), (1, D), (30, M)),
        ("0402", "占道经营", "chengguan", True, (1, H), (4, H), (30, M)),
        ("0403", "乱堆物料", "chengguan", True, (1, H), (1, D), (30, M)),
    ]),
    ("05", "突发事件", True, [
        ("0501", "供水管道破裂", "yingji", False, (30, M), (4, H), (30, M)),
        ("0502", "路面塌陷", "yingji", False, (30, M), (4, H), (30, M)),
        ("0503", "道路积水", "yingji", False, (30, M), (4, H), (30, M)),
        ("0504", "火情", "yingji", False, (30, M), (2, H), (30, M)),
    ]),
    ("06", "矛盾纠纷", False, [
        ("0601", "邻里纠纷", "zhengfa", True, (1, D), (3, D), (1, H)),
        ("0602", "劳资纠纷", "zhengfa", False, (1, D), (7, D), (1, H)),
        ("0603", "婚姻家庭纠纷", "zhengfa", True, (1, D), (3, D), (1, H)),
    ]),
    ("07", "安全隐患", True, [
        ("0701", "消防安全隐患", "yingji", False, (2, H), (2, D), (30, M)),
        ("0702", "燃气安全隐患", "yingji", False, (1, H), (1, D), (30, M)),
        ("0703", "食品安全", "shichang", False, (2, H), (3, D), (30, M)),
        ("0704", "危房", "yingji", False, (2, H), (5, D), (1, H)),
    ]),
    ("08", "民生服务", True, [
        ("0801", "困难群众帮扶", "minzheng", True, (1, D), (5, D), (1, H)),
        ("0802", "养老服务", "minzheng", False, (1, D), (5, D), (1, H)),
        ("0803", "医疗卫生服务", "weijian", False, (1, D), (3, D), (1, H)),
        ("0804", "12345 其他诉求", "minzheng", False, (1, D), (5, D), (1, H)),
    ]),
    ("09", "信访", False, [
        ("0901", "信访事项", "xinfang", False, (15, D), (40, D), (1, D)),
    ]),
    ("10", "疫情防控", False, [  # internal: about named people (issue 14)
        ("1001", "发热人员报告", "weijian", False, (30, M), (2, H), (30, M)),
        ("1002", "重点人员排查", "weijian", True, (1, H), (1, D), (30, M)),
    ]),
]  # fmt: skip


def seed_categories(category_model: Any, department_model: Any) -> int:
    """Create the seeded tree where missing (never overwrites an administrator's edits)."""
    created = 0
    for order, (code, name, public, minors) in enumerate(CATEGORIES):
        major, made = category_model.objects.get_or_create(
            code=code, defaults={"name": name, "public": public, "sort": order}
        )
        created += int(made)
        for sub_order, (mcode, mname, dept, self_resolve, acc, hdl, ver) in enumerate(minors):
            _obj, made = category_model.objects.get_or_create(
                code=mcode,
                defaults={
                    "name": mname,
                    "parent": major,
                    "department": department_model.objects.filter(code=dept).first(),
                    "self_resolve": self_resolve,
                    "public": public,
                    "accept_limit": acc[0],
                    "accept_unit": acc[1],
                    "handle_limit": hdl[0],
                    "handle_unit": hdl[1],
                    "verify_limit": ver[0],
                    "verify_unit": ver[1],
                    "sort": sub_order,
                },
            )
            created += int(made)
    return created
