from django.urls import path

from wangge.restructure import views

app_name = "restructure"
urlpatterns = [
    path("", views.home, name="home"),
]
