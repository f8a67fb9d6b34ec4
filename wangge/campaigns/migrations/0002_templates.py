"""The four campaign templates a district starts with (editable afterwards)."""

from django.db import migrations

PERSON = [
    "name",
    "id_number",
    "gender",
    "phone",
    "current_address",
    "population_type",
    "occupation",
    "care_tags",
]
TEMPLATES = [
    (
        "basic",
        "基础信息采集核查",
        "人、地、事物、组织逐条采集核查：核对每一条记录，补录遗漏，注销已迁出、死亡、关闭、拆除的记录。",
        {
            "kinds": ["person", "household", "room", "organisation", "thing"],
            "fields": {
                "person": PERSON,
                "room": ["use", "area_m2"],
                "organisation": [
                    "name",
                    "credit_code",
                    "kind",
                    "legal_representative",
                    "phone",
                    "address",
                    "employees",
                ],
                "thing": ["name", "responsible_unit", "state"],
            },
            "selection": {},
            "visits": False,
            "findings": False,
            "spot_check": 0.1,
        },
    ),
    (
        "visit",
        "入户走访排查",
        "逐户走访，登记每户结果（已走访 / 无人在家待复访 / 拒绝 / 空置），核对户内人员。",
        {
            "kinds": ["household", "person"],
            "fields": {"person": ["name", "phone", "current_address", "care_tags"]},
            "selection": {},
            "visits": True,
            "findings": False,
            "spot_check": 0.1,
        },
    ),
    (
        "rental",
        "出租屋核查",
        "核查用途为出租的房屋及其承租人员。",
        {
            "kinds": ["room", "household", "person"],
            "fields": {
                "room": ["use", "area_m2"],
                "person": [
                    "name",
                    "id_number",
                    "phone",
                    "population_type",
                    "move_in",
                    "expected_leave",
                    "employer",
                ],
            },
            "selection": {"room": "rented", "household": "rented", "person": "tenants"},
            "visits": True,
            "findings": False,
            "spot_check": 0.1,
        },
    ),
    (
        "hazard",
        "安全隐患排查",
        "排查重点场所和状态异常的部件设施，发现隐患即上报为事件。",
        {
            "kinds": ["organisation", "thing"],
            "fields": {
                "organisation": ["name", "legal_representative", "phone", "employees", "key_tags"],
                "thing": ["name", "responsible_unit", "state", "note"],
            },
            "selection": {"organisation": "key_place", "thing": "not_good"},
            "visits": False,
            "findings": True,
            "spot_check": 0.2,
        },
    ),
]


def seed(apps, schema_editor):
    Template = apps.get_model("campaigns", "Template")
    for code, name, description, spec in TEMPLATES:
        Template.objects.update_or_create(
            code=code, defaults={"name": name, "description": description, "spec": spec}
        )


def unseed(apps, schema_editor):
    apps.get_model("campaigns", "Template").objects.filter(
        code__in=[t[0] for t in TEMPLATES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
