from django.urls import path

from wangge.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
    path("screen/", views.screen, name="screen"),
]
