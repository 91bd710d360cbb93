"""The compute API: the targets the canvas offers per node, and their environments.
Read-only: targets and environments are managed in the admin."""
from rest_framework import viewsets

from . import selectors
from .serializers import ComputeTargetSerializer, EnvironmentSerializer


class ComputeTargetViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ComputeTargetSerializer
    lookup_field = "name"
    pagination_class = None  # a handful, all shown at once

    def get_queryset(self):
        return selectors.compute_target_list()


class EnvironmentViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = EnvironmentSerializer
    lookup_field = "name"
    pagination_class = None

    def get_queryset(self):
        return selectors.environment_list()
