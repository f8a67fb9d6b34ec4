from django.urls import path

from wangge.teams import views

app_name = "teams"
urlpatterns = [
    path("", views.coverage, name="coverage"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/export.xlsx", views.staff_export, name="staff_export"),
    path("staff/<int:staff_id>/", views.staff_detail, name="staff"),
    path("staff/<int:staff_id>/reveal/", views.staff_reveal, name="reveal"),
    path("assignments/<int:assignment_id>/end/", views.assignment_end, name="assignment_end"),
    path("roster/", views.roster_page, name="roster"),
    path("roster/template.xlsx", views.roster_template, name="roster_template"),
    path("roster/export.xlsx", views.roster_export, name="roster_export"),
    path("roster/errors.xlsx", views.roster_errors, name="roster_errors"),
    path("grid/<str:code>/", views.team, name="team"),
    path("grid/<str:code>/card/", views.card, name="card"),
    path("grid/<str:code>/history/", views.history, name="history"),
]
