from django.urls import path, re_path

from wangge.dashboard import exports, views

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
    path("screen/", views.screen, name="screen"),
    path("briefing/", views.briefing, name="briefing"),
    path("briefing.pdf", views.briefing_pdf, name="briefing_pdf"),
    re_path(
        r"^(?P<panel>" + "|".join(exports.PANELS) + r")\.xlsx$",
        views.panel_xlsx,
        name="panel_xlsx",
    ),
]
