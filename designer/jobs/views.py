"""The jobs API: thin views over jobs.services and jobs.selectors. A job's cancel, rerun,
logs, metrics, images and outputs are its run's (/api/runs/<id>/…)."""
from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers as drf_serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from designer.api_defaults import signed_in
from designer.engine.job_file import load_job
from designer.runs.models import Run

from . import selectors, services
from .serializers import (
    ExperimentRunSerializer, ExperimentSerializer, JobDetailSerializer, JobEnvironmentSerializer, JobSerializer,
    JobSubmitSerializer, SnapshotSerializer,
)

_ERRORS = inline_serializer("JobErrors", {"errors": drf_serializers.ListField(child=drf_serializers.DictField())})
_NOT_FOUND = OpenApiResponse(_ERRORS, description="no such job or experiment (or not yours)")


class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Jobs of the signed-in user: submit a code folder (zip) with its job file, list, read."""

    lookup_value_regex = "[^/]+"
    parser_classes = [MultiPartParser]

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Run.objects.none()
        return selectors.job_list(user=signed_in(self.request))

    def get_object(self) -> Run:
        return selectors.job_get(user=signed_in(self.request), run_id=self.kwargs["pk"])

    def get_serializer_class(self) -> type[drf_serializers.BaseSerializer]:
        return JobDetailSerializer if self.action != "list" else JobSerializer

    @extend_schema(
        request={"multipart/form-data": JobSubmitSerializer},
        responses={201: JobDetailSerializer, 400: _ERRORS},
    )
    def create(self, request: Request) -> Response:
        """Submit a job: its code folder as a zip and its job file; it starts after this request."""
        form = JobSubmitSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        run = services.job_submit_archive(
            user=signed_in(request), doc=load_job(data["job"]), archive=data["code"], compute=data.get("compute"),
        )
        return Response(JobDetailSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: JobDetailSerializer, 404: _NOT_FOUND})
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A job: its run, steps (metrics, outputs), job file and snapshot."""
        return Response(JobDetailSerializer(self.get_object()).data)

    @extend_schema(responses={200: SnapshotSerializer, 404: _NOT_FOUND})
    @action(detail=True, methods=["get"])
    def snapshot(self, request: Request, pk: str) -> Response:
        """The files of the job's snapshot: exactly the code that ran."""
        return Response(SnapshotSerializer(selectors.job_snapshot_files(run=self.get_object())).data)

    @extend_schema(responses={200: JobEnvironmentSerializer, 404: _NOT_FOUND})
    @action(detail=True, methods=["get"])
    def environment(self, request: Request, pk: str) -> Response:
        """The job's environment: base image, requirements and image, built for it or reused, and the build's log."""
        return Response(JobEnvironmentSerializer(selectors.job_environment(run=self.get_object())).data)


class ExperimentListView(APIView):
    @extend_schema(responses={200: ExperimentSerializer(many=True)})
    def get(self, request: Request) -> Response:
        """Your experiments (runs grouped by their experiment name)."""
        return Response(ExperimentSerializer(selectors.experiment_list(user=signed_in(request)), many=True).data)


class ExperimentRunsView(APIView):
    @extend_schema(operation_id="experiments_runs", responses={200: ExperimentRunSerializer(many=True), 404: _NOT_FOUND})
    def get(self, request: Request, name: str) -> Response:
        """The runs of an experiment with their metrics side by side, newest first."""
        runs = selectors.experiment_runs(user=signed_in(request), name=name)
        return Response(ExperimentRunSerializer(runs, many=True).data)
