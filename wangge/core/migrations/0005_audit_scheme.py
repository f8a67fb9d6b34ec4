"""Audit entries say how their hash was made; existing entries are the unkeyed `sha256` ones.

On SQLite, adding a NOT NULL column makes Django rebuild the table (copy, drop, rename), and
dropping the old table drops its triggers: they are made again here, as in migration 0002.
PostgreSQL adds the column in place and keeps them.
"""

from django.db import migrations, models

SQLITE_TRIGGERS = [
    """CREATE TRIGGER IF NOT EXISTS core_auditentry_no_update BEFORE UPDATE ON core_auditentry
       BEGIN SELECT RAISE(ABORT, 'core_auditentry is append-only'); END;""",
    """CREATE TRIGGER IF NOT EXISTS core_auditentry_no_delete BEFORE DELETE ON core_auditentry
       BEGIN SELECT RAISE(ABORT, 'core_auditentry is append-only'); END;""",
]


def restore_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_TRIGGERS:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("core", "0004_job")]
    operations = [
        # Reversing removes the column, another rebuild: the triggers are restored after it.
        migrations.RunPython(migrations.RunPython.noop, restore_sqlite_triggers),
        migrations.AddField(
            model_name="auditentry",
            name="scheme",
            field=models.CharField(default="sha256", max_length=16),
            preserve_default=False,
        ),
        migrations.RunPython(restore_sqlite_triggers, migrations.RunPython.noop),
    ]
