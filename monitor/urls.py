from django.contrib import admin
from django.urls import include, path

from dashboard.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("dashboard.api_urls")),
    path("", include("dashboard.urls")),
]
