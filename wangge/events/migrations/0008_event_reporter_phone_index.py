from typing import Any

from django.db import migrations, models

CALLER_CONTEXT = "events.reporter_phone"  # as wangge.events.intake.CALLER_CONTEXT


def index_callers(apps: Any, schema_editor: Any) -> None:
    """The blind index of the phones already stored, so the hotline finds earlier calls too.
    Decrypts only the events that have a reporter's phone (with the deployment's keys)."""
    from wangge.core.crypto import blind_index
    from wangge.core.personal import normalise_phone

    event = apps.get_model("events", "Event")
    rows = event._base_manager.all()
    batch = []
    for e in rows.only("pk", "reporter_phone").iterator(chunk_size=2000):
        number = normalise_phone((e.reporter_phone or "")[:20])
        if len(number) >= 7:
            e.reporter_phone_index = blind_index(number, context=CALLER_CONTEXT)
            batch.append(e)
        if len(batch) >= 2000:
            event._base_manager.bulk_update(batch, ["reporter_phone_index"])
            batch = []
    if batch:
        event._base_manager.bulk_update(batch, ["reporter_phone_index"])


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0007_internal_categories"),
    ]

    operations = [
        migrations.AddField(
            model_name="event",
            name="reporter_phone_index",
            field=models.CharField(blank=True, db_index=True, max_length=64),
        ),
        migrations.RunPython(index_callers, migrations.RunPython.noop),
    ]
