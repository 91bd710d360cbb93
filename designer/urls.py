from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    # Sign-in for the browsable API.
    path("api-auth/", include("rest_framework.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("designer.pipelines.urls")),
    path("api/", include("designer.runs.urls")),
    path("api/", include("designer.datasets.urls")),
    path("api/", include("designer.compute.urls")),
    path("api/", include("designer.jobs.urls")),
    # The canvas: the single-page app and its client routes, sign-in.
    path("", include("designer.web.urls")),
]

handler404 = "designer.api_errors.not_found"
