from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "wangge.ledger"
    label = "ledger"
    verbose_name = _("Ledger")

    def ready(self) -> None:
        from wangge.ledger.selectors import grid_figures_for
        from wangge.regions.selectors import register_grid_figures

        register_grid_figures("ledger", grid_figures_for)
        from wangge.ledger import jobs

        jobs.register()
        _register_audit_objects()


def _register_audit_objects() -> None:
    from functools import partial

    from django.urls import reverse

    from wangge.core.audit_words import register_objects
    from wangge.ledger.selectors import audit_names_unscoped

    pages = {
        "person": "ledger:person",
        "household": "ledger:household",
        "organisation": "ledger:organisation",
        "thing": "ledger:thing",
        "estate": "ledger:estate",
    }

    def url(page: str, pk: str) -> str:
        return reverse(page, args=[int(pk)])

    for kind, page in pages.items():
        register_objects(kind, partial(audit_names_unscoped, kind), partial(url, page))
