from wangge.linkage import views

app_name = "linkage"
urlpatterns = views.urlpatterns
