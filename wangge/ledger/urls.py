from django.urls import URLPattern, path

from wangge.ledger import views

app_name = "ledger"


def _record(kind: str, *, movable: bool = False) -> list[URLPattern]:
    """One record's pages: the record, correct it, retire it (and move it, if it moves)."""
    base = {"organisation": "organisations", "thing": "things", "estate": "estates"}.get(
        kind, f"{kind}s"
    )
    move = [path(f"{base}/<int:pk>/move/", views.record_move, {"kind": kind}, name=f"{kind}_move")]
    return [
        path(f"{base}/<int:pk>/", views.record, {"kind": kind}, name=kind),
        path(f"{base}/<int:pk>/edit/", views.record_edit, {"kind": kind}, name=f"{kind}_edit"),
        *(move if movable else []),
        path(
            f"{base}/<int:pk>/retire/", views.record_retire, {"kind": kind}, name=f"{kind}_retire"
        ),
    ]


urlpatterns = [
    path("", views.overview, name="overview"),
    path("people/", views.people, name="people"),
    path("people/new/", views.person_new, name="person_new"),
    path("people/export.csv", views.people_export, name="people_export"),
    path("people/export.xlsx", views.people_export, {"xlsx": True}, name="people_export_xlsx"),
    path("people/<int:person_id>/", views.person, name="person"),
    path("people/<int:person_id>/edit/", views.person_edit, name="person_edit"),
    path("people/<int:person_id>/move/", views.person_move, name="person_move"),
    path("people/<int:person_id>/retire/", views.person_retire, name="person_retire"),
    path("people/<int:person_id>/reveal/", views.person_reveal, name="person_reveal"),
    path("households/new/", views.household_new, name="household_new"),
    path("households/<int:household_id>/", views.household, name="household"),
    path("referrals/", views.referrals, name="referrals"),
    path("merges/<int:merge_id>/undo/", views.merge_undo, name="merge_undo"),
    path("organisations/", views.organisations, name="organisations"),
    path("organisations/export.xlsx", views.organisations_export, name="organisations_export"),
    path("organisations/new/", views.organisation_new, name="organisation_new"),
    path("organisations/<int:pk>/reveal/", views.organisation_reveal, name="organisation_reveal"),
    *_record("organisation", movable=True),
    path("things/", views.things, name="things"),
    path("things/new/", views.thing_new, name="thing_new"),
    *_record("thing", movable=True),
    path("addresses/", views.addresses, name="addresses"),
    path("addresses/search/", views.address_search, name="address_search"),
    path("estates/new/", views.estate_new, name="estate_new"),
    path("estates/<int:pk>/buildings/new/", views.building_new, name="building_new"),
    path("buildings/<int:pk>/rooms/new/", views.room_new, name="room_new"),
    *_record("estate"),
    *_record("building"),
    *_record("room"),
    path("map/", views.ledger_map, name="map"),
    path("import/", views.import_page, name="import"),
    path("jobs/<int:job_id>/", views.job_page, name="job"),
    path("jobs/<int:job_id>/errors.xlsx", views.job_errors, name="job_errors"),
    path("templates/<str:kind>.xlsx", views.template, name="template"),
]
