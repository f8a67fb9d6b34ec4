from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegionsConfig(AppConfig):
    name = "wangge.regions"
    label = "regions"
    verbose_name = _("Regions")

    def ready(self) -> None:
        from django.urls import reverse

        from wangge.core.audit_words import register_objects
        from wangge.regions.selectors import audit_names_unscoped

        register_objects(
            "region", audit_names_unscoped, lambda code: reverse("regions:detail", args=[code])
        )
