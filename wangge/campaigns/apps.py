from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "wangge.campaigns"
    label = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self) -> None:
        from wangge.campaigns import merges, scan

        scan.register()
        merges.register()
        _register_audit_objects()


def _register_audit_objects() -> None:
    from functools import partial

    from django.urls import reverse

    from wangge.campaigns.selectors import audit_names_unscoped
    from wangge.core.audit_words import register_objects

    def url(page: str, pk: str) -> str:
        return reverse(page, args=[int(pk)])

    for kind, page in {"campaign": "campaigns:detail", "campaign_task": "campaigns:task"}.items():
        register_objects(kind, partial(audit_names_unscoped, kind), partial(url, page))
