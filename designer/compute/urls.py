"""The compute API under /api/compute/: targets, and their environments."""
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("compute/environments", views.EnvironmentViewSet, basename="environment")
router.register("compute", views.ComputeTargetViewSet, basename="compute-target")

urlpatterns = [*router.urls]
