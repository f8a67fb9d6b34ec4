from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "wangge.ledger"
    label = "ledger"
    verbose_name = _("Ledger")

    def ready(self) -> None:
        from wangge.ledger import jobs

        jobs.register()
