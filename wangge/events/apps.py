from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "wangge.events"
    label = "events"
    verbose_name = _("Events")

    def ready(self) -> None:
        from wangge.events.selectors import grid_figures_for
        from wangge.regions.selectors import register_grid_figures

        register_grid_figures("events", grid_figures_for)
        from wangge.core.backup import register_file_store
        from wangge.core.crypto import register_sealed_store
        from wangge.core.middleware import register_refusal
        from wangge.events import open311, photos, scan

        scan.register()
        _register_audit_objects()
        register_refusal("open311", open311.refusal)
        register_sealed_store(
            "events.photos",
            keys_used=photos.keys_in_use,
            reencrypt=photos.reencrypt,
        )
        register_file_store("events.photos", photos.photo_directory)


def _register_audit_objects() -> None:
    from django.urls import reverse

    from wangge.core.audit_words import register_objects
    from wangge.events.selectors import audit_names_unscoped

    register_objects(
        "event", audit_names_unscoped, lambda pk: reverse("events:detail", args=[int(pk)])
    )
