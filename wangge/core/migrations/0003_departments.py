"""The departments every district starts with (the eight whose grids became one, plus 公安)."""

from django.db import migrations

DEPARTMENTS = [
    ("dangjian", "党建"),
    ("zhengfa", "政法综治"),
    ("minzheng", "民政"),
    ("chengguan", "城管"),
    ("xinfang", "信访"),
    ("shichang", "市场监管"),
    ("weijian", "卫生健康"),
    ("yingji", "应急管理"),
    ("gongan", "公安"),
]


def forward(apps, schema_editor):
    Department = apps.get_model("core", "Department")
    for code, name in DEPARTMENTS:
        Department.objects.get_or_create(code=code, defaults={"name": name})


def backward(apps, schema_editor):
    Department = apps.get_model("core", "Department")
    Department.objects.filter(code__in=[c for c, _ in DEPARTMENTS], grants=None).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0002_audit_append_only")]
    operations = [migrations.RunPython(forward, backward)]
