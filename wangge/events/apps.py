from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "wangge.events"
    label = "events"
    verbose_name = _("Events")

    def ready(self) -> None:
        from wangge.core.crypto import register_sealed_store
        from wangge.events import photos, scan

        scan.register()
        register_sealed_store(
            "events.photos",
            keys_used=photos.keys_in_use,
            reencrypt=photos.reencrypt,
        )
