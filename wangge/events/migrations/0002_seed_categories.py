from django.db import migrations


def seed(apps, schema_editor):
    from wangge.events.seed import seed_categories

    seed_categories(apps.get_model("events", "Category"), apps.get_model("core", "Department"))


class Migration(migrations.Migration):
    dependencies = [("events", "0001_initial"), ("core", "0003_departments")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
