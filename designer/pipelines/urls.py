"""The pipelines API under /api/: pipelines and their versions, the module catalog, auth."""
from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("pipelines", views.PipelineViewSet, basename="pipeline")
router.register("modules", views.ModuleViewSet, basename="module")

urlpatterns = [
    *router.urls,
    path("auth/token/", views.TokenView.as_view(), name="auth-token"),
    path("auth/me/", views.MeView.as_view(), name="auth-me"),
]
