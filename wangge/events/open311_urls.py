"""Open311 GeoReport v2 under /open311/ (views in open311.py)."""

from wangge.events import open311

app_name = "open311"

urlpatterns = open311.urlpatterns()
