from wangge.campaigns.views import field, manage

app_name = "campaigns"

# Each page file lists its own routes (desktop pages, the phone's pages).
urlpatterns = [*manage.urlpatterns, *field.urlpatterns]
