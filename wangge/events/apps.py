from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "wangge.events"
    label = "events"
    verbose_name = _("Events")

    def ready(self) -> None:
        from wangge.events import scan

        scan.register()
