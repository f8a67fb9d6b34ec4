from django.urls import path

from wangge.events import views

app_name = "events"

urlpatterns: list = []
