from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LinkageConfig(AppConfig):
    name = "wangge.linkage"
    label = "linkage"
    verbose_name = _("Linkage")

    def ready(self) -> None:
        from wangge.linkage import jobs, merges

        jobs.register()
        merges.register()
        from wangge.ledger.selectors import register_record_link
        from wangge.linkage.selectors import provenance_link

        register_record_link("linkage", provenance_link)
