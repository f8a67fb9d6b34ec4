from django.urls import path

from wangge.ledger import views

app_name = "ledger"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("people/", views.people, name="people"),
    path("people/export.csv", views.people_export, name="people_export"),
    path("people/<int:person_id>/", views.person, name="person"),
    path("people/<int:person_id>/reveal/", views.person_reveal, name="person_reveal"),
    path("organisations/", views.organisations, name="organisations"),
    path("things/", views.things, name="things"),
    path("map/", views.ledger_map, name="map"),
    path("import/", views.import_page, name="import"),
    path("jobs/<int:job_id>/", views.job_page, name="job"),
    path("jobs/<int:job_id>/errors.xlsx", views.job_errors, name="job_errors"),
    path("templates/<str:kind>.xlsx", views.template, name="template"),
]
