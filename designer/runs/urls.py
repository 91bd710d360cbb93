"""The runs API under /api/: runs, and their steps' logs, outputs, metrics and images."""
from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("runs", views.RunViewSet, basename="run")

_STEP = "runs/<str:run_id>/steps/<str:node>/"

urlpatterns = [
    *router.urls,
    path(f"{_STEP}logs/", views.StepLogsView.as_view(), name="step-logs"),
    path(f"{_STEP}metrics/", views.StepMetricsView.as_view(), name="step-metrics"),
    path(f"{_STEP}images/<str:name>", views.StepImageView.as_view(), name="step-image"),
    path(f"{_STEP}outputs/<str:port>/preview/", views.OutputPreviewView.as_view(), name="output-preview"),
    path(f"{_STEP}outputs/<str:port>/download/", views.OutputDownloadView.as_view(), name="output-download"),
    path(f"{_STEP}outputs/<str:port>/files/", views.OutputFilesView.as_view(), name="output-files"),
    path(f"{_STEP}outputs/<str:port>/file/", views.OutputFileView.as_view(), name="output-file"),
    path(f"{_STEP}outputs/<str:port>/class-curves/", views.OutputClassCurvesView.as_view(), name="output-class-curves"),
]
