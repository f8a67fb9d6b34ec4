from django.urls import include, path

from wangge import views
from wangge.api import api

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("wangge.core.urls")),
    path("regions/", include("wangge.regions.urls")),
    path("teams/", include("wangge.teams.urls")),
    path("ledger/", include("wangge.ledger.urls")),
    path("events/", include("wangge.events.urls")),
    path("campaigns/", include("wangge.campaigns.urls")),
    path("linkage/", include("wangge.linkage.urls")),
    path("dashboard/", include("wangge.dashboard.urls")),
    path("restructure/", include("wangge.restructure.urls")),
    path("open311/", include("wangge.events.open311_urls")),
]
