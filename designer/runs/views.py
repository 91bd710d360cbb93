"""The runs API: thin views over runs.services, runs.selectors and designer.tables."""
from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path
from typing import Any

from django.http import FileResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers as drf_serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from designer.api_defaults import signed_in
from designer.tables.downloads import FileNegotiation, table_download
from designer.tables.previews import PreviewError, class_curves, table_preview
from designer.tables.serializers import DownloadQuerySerializer, PreviewQuerySerializer, PreviewSerializer

from . import selectors, services
from .models import Run, StepRun
from .serializers import (
    ClonedPipelineSerializer, LogsQuerySerializer, LogsSerializer, MetricsSerializer, OutputFileQuerySerializer,
    OutputFilesSerializer, RunCloneSerializer, RunDetailSerializer, RunRerunSerializer, RunSubmitSerializer, RunSummarySerializer,
)

_ERRORS = inline_serializer("Errors", {"errors": drf_serializers.ListField(child=drf_serializers.DictField())})
_NOT_FOUND = OpenApiResponse(_ERRORS, description="no such run, node, output or image (or not yours)")
_CLASS_CURVES = inline_serializer("ClassCurves", {
    "label": drf_serializers.CharField(),
    "classes": drf_serializers.ListField(child=drf_serializers.DictField(), help_text=(
        "per class: `class`, `rows` (of that class), `metrics` (Evaluate Model's two-class metrics), "
        "`roc` and `precision_recall` (its curves; null for a class neither present nor predicted)"
    )),
})


class RunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Runs of the signed-in user: submit, list, read, cancel, rerun, clone into a draft."""

    filter_backends = [DjangoFilterBackend]
    filterset_class = selectors.RunFilter
    # Any id reaches the view (and gets a structured 404), dots included.
    lookup_value_regex = "[^/]+"

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user, just the model
            return Run.objects.none()
        return selectors.run_list(user=signed_in(self.request))

    def get_object(self) -> Run:
        return selectors.run_get(user=signed_in(self.request), run_id=self.kwargs["pk"])

    def get_serializer_class(self) -> type[drf_serializers.BaseSerializer]:
        return RunDetailSerializer if self.action != "list" else RunSummarySerializer

    @extend_schema(
        request={"multipart/form-data": RunSubmitSerializer, "application/json": RunSubmitSerializer},
        responses={
            201: RunDetailSerializer, 400: _ERRORS,
            404: OpenApiResponse(_ERRORS, description="no such pipeline or version (or not yours)"),
        },
    )
    def create(self, request: Request) -> Response:
        """Submit a run of a pipeline file or a pipeline document; it starts after this request."""
        form = RunSubmitSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        document, version = data.get("pipeline"), None
        if "pipeline_id" in data:
            version = selectors.pipeline_version_get(
                user=signed_in(request), pipeline_id=data["pipeline_id"], version=data.get("version")
            )
            document = version.document
        run = services.run_submit(
            user=signed_in(request), text=data.get("file"), document=document, pipeline_version=version,
            parameters=data["parameters"], compute=data.get("compute"), force_rerun=data["force_rerun"],
        )
        return Response(RunDetailSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: RunDetailSerializer, 404: _NOT_FOUND, 409: _ERRORS})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        """Cancel a queued or running run (409 once it has finished)."""
        run = services.run_cancel(run=self.get_object())
        return Response(RunDetailSerializer(run).data)

    @extend_schema(request=RunRerunSerializer, responses={201: RunDetailSerializer, 404: _NOT_FOUND})
    @action(detail=True, methods=["post"])
    def rerun(self, request: Request, pk: str) -> Response:
        """Run the same snapshot again (unchanged steps are reused unless `force_rerun`)."""
        form = RunRerunSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        run = self.get_object()
        new = services.run_rerun(run=run, user=signed_in(request), force_rerun=form.validated_data["force_rerun"])
        return Response(RunDetailSerializer(new).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={201: RunDetailSerializer, 404: _NOT_FOUND})
    @action(detail=True, methods=["post"], url_path=r"rerun-from/(?P<node>[^/]+)")
    def rerun_from(self, request: Request, pk: str, node: str) -> Response:
        """Run the same snapshot again from `node`: it and everything downstream run, what is
        upstream is reused."""
        run = self.get_object()
        selectors.step_get(run=run, node=node)
        new = services.run_rerun_from(run=run, user=signed_in(request), node=node)
        return Response(RunDetailSerializer(new).data, status=status.HTTP_201_CREATED)


    @extend_schema(request=RunCloneSerializer, responses={201: ClonedPipelineSerializer, 404: _NOT_FOUND})
    @action(detail=True, methods=["post"])
    def clone(self, request: Request, pk: str) -> Response:
        """Copy the pipeline file this run ran into a new draft pipeline of yours."""
        form = RunCloneSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        pipeline = services.run_clone_to_draft(run=self.get_object(), user=signed_in(request), **form.validated_data)
        body = {"pipeline_id": pipeline.pk, "name": pipeline.name, "version": pipeline.current_version}
        return Response(ClonedPipelineSerializer(body).data, status=status.HTTP_201_CREATED)


class _StepView(APIView):
    def step(self, request: Request, run_id: str, node: str) -> tuple[Run, StepRun]:
        run = selectors.run_get(user=signed_in(request), run_id=run_id)
        return run, selectors.step_get(run=run, node=node)


class StepLogsView(_StepView):
    @extend_schema(
        parameters=[OpenApiParameter("tail", int, description="only the last N lines")],
        responses={200: LogsSerializer, 400: _ERRORS, 404: _NOT_FOUND},
    )
    def get(self, request: Request, run_id: str, node: str) -> Response:
        """A step's log lines: all of them, or the last `tail`."""
        query = LogsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        _, step = self.step(request, run_id, node)
        return Response({"node": node, "lines": selectors.step_logs(step=step, tail=query.validated_data.get("tail"))})


class _TableView(_StepView):
    def table(self, request: Request, run_id: str, node: str, port: str) -> Path:
        """The folder of a table output (400 for an output that is not a table)."""
        _, step = self.step(request, run_id, node)
        meta, folder = selectors.step_output(step=step, port=port)
        if not selectors.output_is_table(meta):
            raise ValidationError({"port": [f"output {port!r} is a {meta.get('type')}, not a table"]})
        return folder


class OutputPreviewView(_TableView):
    @extend_schema(
        parameters=[
            OpenApiParameter("offset", int), OpenApiParameter("limit", int),
            OpenApiParameter("sort", str, description="a column name; `-name` sorts descending"),
        ],
        responses={200: PreviewSerializer, 400: _ERRORS, 404: _NOT_FOUND},
    )
    def get(self, request: Request, run_id: str, node: str, port: str) -> Response:
        """A page of a table output's rows, with statistics of every column of the table."""
        query = PreviewQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        folder = self.table(request, run_id, node, port)
        try:
            return Response(table_preview(folder=folder, **query.validated_data))
        except PreviewError as exc:
            raise ValidationError({"sort": [str(exc)]}) from None


class OutputClassCurvesView(_TableView):
    @extend_schema(responses={200: _CLASS_CURVES, 400: _ERRORS, 404: _NOT_FOUND})
    def get(self, request: Request, run_id: str, node: str, port: str) -> Response:
        """Each class of a multiclass scored table output (Score Model's) against all the others:
        the metrics, ROC and precision-recall curves Evaluate Model gives a two-class table."""
        folder = self.table(request, run_id, node, port)
        try:
            return Response(class_curves(folder=folder))
        except PreviewError as exc:
            raise ValidationError({"port": [str(exc)]}) from None


class OutputDownloadView(_StepView):
    content_negotiation_class = FileNegotiation

    @extend_schema(parameters=[DownloadQuerySerializer], responses={
        (200, "application/octet-stream"): OpenApiResponse(
            OpenApiTypes.BINARY, description="a table as Parquet (or CSV, with format=csv), anything else as a zip",
        ),
        400: _ERRORS,
        404: _NOT_FOUND,
    })
    def get(self, request: Request, run_id: str, node: str, port: str) -> FileResponse:
        """Download an output: a table as Parquet or CSV, anything else as a zip of its artifact folder."""
        query = DownloadQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        run, step = self.step(request, run_id, node)
        path, filename, is_folder = selectors.output_download(run=run, step=step, port=port)
        if is_folder:
            if query.validated_data["format"] == "csv":
                raise ValidationError({"format": [f"output {port!r} is not a table: it downloads as a zip"]})
            return FileResponse(_zipped(path), as_attachment=True, filename=filename, content_type="application/zip")
        return table_download(path.parent, filename, query.validated_data)


class OutputFilesView(_StepView):
    @extend_schema(responses={200: OutputFilesSerializer, 400: _ERRORS, 404: _NOT_FOUND})
    def get(self, request: Request, run_id: str, node: str, port: str) -> Response:
        """The files of an output that is a folder (not a table): paths and sizes."""
        _, step = self.step(request, run_id, node)
        return Response(OutputFilesSerializer(selectors.output_files(step=step, port=port)).data)


class OutputFileView(_StepView):
    content_negotiation_class = FileNegotiation

    @extend_schema(parameters=[OutputFileQuerySerializer], responses={
        (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="the file as it is stored"),
        400: _ERRORS,
        404: _NOT_FOUND,
    })
    def get(self, request: Request, run_id: str, node: str, port: str) -> FileResponse:
        """Download one file of an output folder, by its path in the output's file list."""
        query = OutputFileQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        _, step = self.step(request, run_id, node)
        path = selectors.output_file(step=step, port=port, path=query.validated_data["path"])
        # Whatever a script wrote is sent as bytes to save, never as a page to show.
        return FileResponse(path.open("rb"), as_attachment=True, filename=path.name, content_type="application/octet-stream")


def _zipped(folder: Path) -> Any:
    # Spooled: small artifacts never touch the disk, large ones are not held in memory.
    spool = tempfile.SpooledTemporaryFile(max_size=16 << 20)
    with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    spool.seek(0)
    return spool


class StepMetricsView(_StepView):
    @extend_schema(responses={200: MetricsSerializer, 404: _NOT_FOUND})
    def get(self, request: Request, run_id: str, node: str) -> Response:
        """A step's metrics, chart data, warnings and the names of its images."""
        _, step = self.step(request, run_id, node)
        return Response({
            "node": node, "metrics": step.metrics, "visuals": step.visuals, "warnings": step.warnings,
            "images": selectors.step_image_names(step=step),
        })


class StepImageView(_StepView):
    content_negotiation_class = FileNegotiation

    @extend_schema(responses={(200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY), 404: _NOT_FOUND})
    def get(self, request: Request, run_id: str, node: str, name: str) -> FileResponse:
        """One of a step's PNG images, by a name from its metrics' `images` list."""
        _, step = self.step(request, run_id, node)
        return FileResponse(selectors.step_image(step=step, name=name).open("rb"), content_type="image/png")
