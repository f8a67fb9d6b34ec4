from django.urls import path

from wangge.events import views

app_name = "events"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:event_id>/", views.detail, name="detail"),
    path("<int:event_id>/act/<str:action>/", views.act, name="act"),
    path("<int:event_id>/reveal/", views.reporter_reveal, name="reveal"),
    path("report/", views.report, name="report"),
    path("hotline/", views.hotline, name="hotline"),
    path("hotline/caller/", views.hotline_caller, name="hotline_caller"),
    path("public/report/", views.public_report, name="public_report"),
    path("public/track/", views.public_track, name="public_track"),
    path("public/grids.geojson", views.public_grids, name="public_grids"),
    path("export.xlsx", views.inbox_xlsx, name="inbox_xlsx"),
    path("indicators/", views.indicators, name="indicators"),
    path("indicators.xlsx", views.indicators_xlsx, name="indicators_xlsx"),
    path("map/", views.events_map, name="map"),
    path("notifications/", views.notifications, name="notifications"),
    path("calendar/", views.calendar_page, name="calendar"),
    path("categories/", views.categories, name="categories"),
]
