from django.contrib.auth import views as auth_views
from django.urls import path

from wangge.core import views

urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("audit/", views.audit, name="audit"),
    path("audit/export.xlsx", views.audit_xlsx, name="audit_xlsx"),
    path("filters/save/", views.saved_filter_save, name="saved_filter_save"),
    path("filters/<int:filter_id>/delete/", views.saved_filter_delete, name="saved_filter_delete"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views.metrics_view, name="metrics"),
]
