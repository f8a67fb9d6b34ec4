from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "wangge.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import pre_migrate

        from wangge.core import (
            audit,
            backup,
            exports,
            jobs,
            lookups,  # noqa: F401  (registers `literal_in`)
        )
        from wangge.core.db.timeouts import lift_for_migrations

        pre_migrate.connect(lift_for_migrations, dispatch_uid="wangge.lift_for_migrations")
        backup.register_file_store("core.exports", exports.directory)
        jobs.register_periodic(
            "audit.checkpoint", settings.AUDIT_CHECKPOINT_SECONDS, audit.checkpoint_periodic
        )
