from django.urls import include, path

from wangge import views
from wangge.api import api

urlpatterns = [
    path("", views.home, name="home"),
    path("api/v1/", api.urls),
    path("", include("wangge.core.urls")),
    path("regions/", include("wangge.regions.urls")),
]
