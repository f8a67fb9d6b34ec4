from django.urls import path, register_converter

from wangge.dashboard import exports, views

app_name = "dashboard"


class PanelConverter:
    """A panel that has a workbook (`exports.PANELS`); any other name is a 404."""

    regex = "|".join(exports.PANELS)

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(PanelConverter, "dashboard_panel")

urlpatterns = [
    path("", views.home, name="home"),
    path("screen/", views.screen, name="screen"),
    path("briefing/", views.briefing, name="briefing"),
    path("briefing.pdf", views.briefing_pdf, name="briefing_pdf"),
    path("<dashboard_panel:panel>.xlsx", views.panel_xlsx, name="panel_xlsx"),
]
