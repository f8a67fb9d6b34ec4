from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RestructureConfig(AppConfig):
    name = "wangge.restructure"
    label = "restructure"
    verbose_name = _("Grid restructuring")
