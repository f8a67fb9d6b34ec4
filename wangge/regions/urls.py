from django.urls import path

from wangge.regions import views

app_name = "regions"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("map/", views.map_view, name="map"),
    path("layers/", views.layers, name="layers"),
    path("layers/<slug:slug>/", views.layer_detail, name="layer"),
    path("tiles/<int:z>/<int:x>/<int:y>", views.tile, name="tile"),
    path("<str:code>/", views.detail, name="detail"),
    path("<str:code>/children/", views.children, name="children"),
]
