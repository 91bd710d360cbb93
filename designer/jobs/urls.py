"""The jobs API under /api/: jobs and experiments."""
from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("jobs", views.JobViewSet, basename="job")

urlpatterns = [
    *router.urls,
    path("experiments/", views.ExperimentListView.as_view(), name="experiment-list"),
    path("experiments/<str:name>/", views.ExperimentRunsView.as_view(), name="experiment-runs"),
]
