"""The datasets API under /api/: datasets, their versions, previews, profiles and downloads."""
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("datasets", views.DatasetViewSet, basename="dataset")

urlpatterns = [*router.urls]
