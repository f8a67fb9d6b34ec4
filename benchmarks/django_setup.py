"""What the benchmarks that run wangge in-process share: Django set up on a given database and
data directory, migrated. Imported by the benchmark scripts (run as `python benchmarks/x.py`,
so this folder is on the path)."""

from __future__ import annotations

import os


def setup_django(database_url: str, data_dir: str) -> None:
    os.environ.update(
        {
            "WANGGE_DATA_DIR": data_dir,
            "WANGGE_DATABASE_URL": database_url,
            "WANGGE_LOG_LEVEL": "WARNING",
            "WANGGE_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "DJANGO_SETTINGS_MODULE": "wangge.settings",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
