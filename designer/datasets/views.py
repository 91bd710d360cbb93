"""The datasets API: thin views over datasets.services, datasets.selectors and designer.tables."""
from __future__ import annotations

from typing import Any

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers as drf_serializers
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from designer.api_defaults import signed_in
from designer.engine.table_intake import export_options
from designer.tables.downloads import FileNegotiation, table_download
from designer.tables.previews import PreviewError, table_preview
from designer.tables.serializers import (
    ColumnStatisticsSerializer,
    DownloadQuerySerializer,
    PreviewQuerySerializer,
    PreviewSerializer,
)

from . import selectors, services
from .models import Dataset
from .serializers import (
    DatasetDetailSerializer,
    DatasetSerializer,
    DatasetUploadSerializer,
    DatasetVersionSerializer,
    DatasetVersionUploadSerializer,
)

_ERRORS = inline_serializer("DatasetErrors", {"errors": drf_serializers.ListField(child=drf_serializers.DictField())})
_BAD_REQUEST = OpenApiResponse(_ERRORS, description="not a usable table, or a bad request; each error says where")
_NOT_FOUND = OpenApiResponse(_ERRORS, description="no such dataset or version (or not yours)")
_TOO_LARGE = OpenApiResponse(_ERRORS, description="the upload is larger than the configured limit")
_TABLE_UNAVAILABLE = OpenApiResponse(
    _ERRORS, description="the table is over the table limits, or needs more memory than a table worker has",
)
_PROFILE = inline_serializer("DatasetProfile", {
    "total_rows": drf_serializers.IntegerField(), "columns": ColumnStatisticsSerializer(many=True),
})
# Declared by hand: the lookups take any text (for a structured 404), which hides the types.
_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="a dataset id")
_NUMBER = OpenApiParameter("number", int, OpenApiParameter.PATH, description="a version number")
_UPLOAD_PARSERS = [MultiPartParser, FormParser]


class DatasetViewSet(viewsets.GenericViewSet):
    """Datasets of the signed-in user: uploads, versions, previews, profiles, downloads."""

    serializer_class = DatasetSerializer
    filterset_class = selectors.DatasetFilter
    # Every request body here is an upload.
    parser_classes = _UPLOAD_PARSERS
    # Any id reaches the view and gets a structured 404.
    lookup_value_regex = "[^/]+"

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user, just the model
            return Dataset.objects.none()
        return selectors.dataset_list(user=signed_in(self.request))

    def get_object(self) -> Dataset:
        return selectors.dataset_get(user=signed_in(self.request), dataset_id=self.kwargs["pk"])

    def _detail(self, dataset: Dataset, status_code: int = status.HTTP_200_OK) -> Response:
        latest = selectors.version_list(dataset=dataset).first()
        return Response(DatasetDetailSerializer(dataset, context={"latest": latest}).data, status=status_code)

    def list(self, request: Request) -> Response:
        """The signed-in user's datasets, most recently changed first."""
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(DatasetSerializer(page, many=True).data)

    @extend_schema(
        request={"multipart/form-data": DatasetUploadSerializer},
        responses={201: DatasetDetailSerializer, 400: _BAD_REQUEST, 413: _TOO_LARGE},
    )
    def create(self, request: Request) -> Response:
        """Upload a table (CSV, TSV, JSON records or Parquet, told apart by content) as a new
        dataset, or as the next version of the dataset you have by that `name`. A zip is kept
        as a file dataset (kind `files`), e.g. a Script Bundle for Execute Python Script."""
        form = DatasetUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        file = form.validated_data["file"]
        version = services.dataset_upload(
            user=signed_in(request), file=file, filename=file.name, name=form.validated_data.get("name"),
            reading=form.reading(),
        )
        return self._detail(version.dataset, status.HTTP_201_CREATED)

    @extend_schema(parameters=[_ID], responses={200: DatasetDetailSerializer, 404: _NOT_FOUND})
    def retrieve(self, request: Request, pk: str) -> Response:
        """A dataset with its newest version."""
        return self._detail(self.get_object())

    @extend_schema(parameters=[_ID], responses={204: None, 404: _NOT_FOUND})
    def destroy(self, request: Request, pk: str) -> Response:
        """Delete a dataset, every version and their tables (past runs keep their outputs)."""
        services.dataset_delete(dataset=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        methods=["GET"], parameters=[_ID], filters=False,
        responses={200: DatasetVersionSerializer(many=True), 404: _NOT_FOUND},
    )
    @extend_schema(
        methods=["POST"], parameters=[_ID],
        request={"multipart/form-data": DatasetVersionUploadSerializer},
        responses={201: DatasetVersionSerializer, 400: _BAD_REQUEST, 404: _NOT_FOUND, 413: _TOO_LARGE},
    )
    @action(detail=True, methods=["get", "post"])
    def versions(self, request: Request, pk: str) -> Response:
        """GET: every version, newest first. POST: upload a table as the next version."""
        dataset = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(selectors.version_list(dataset=dataset))
            return self.get_paginated_response(DatasetVersionSerializer(page, many=True).data)
        form = DatasetVersionUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        file = form.validated_data["file"]
        version = services.dataset_upload(
            user=signed_in(request), file=file, filename=file.name, dataset=dataset, reading=form.reading(),
        )
        return Response(DatasetVersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[_ID, _NUMBER], responses={200: DatasetVersionSerializer, 404: _NOT_FOUND})
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>[^/]+)")
    def version(self, request: Request, pk: str, number: str) -> Response:
        """One version's description (rows, columns, schema, size, format)."""
        version = selectors.version_get(dataset=self.get_object(), number=number)
        return Response(DatasetVersionSerializer(version).data)

    @extend_schema(
        parameters=[_ID, _NUMBER, PreviewQuerySerializer],
        responses={200: PreviewSerializer, 400: _BAD_REQUEST, 404: _NOT_FOUND},
    )
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>[^/]+)/preview")
    def preview(self, request: Request, pk: str, number: str) -> Response:
        """A page of the version's rows (optionally sorted), with every column's statistics."""
        query = PreviewQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        version = selectors.version_get(dataset=self.get_object(), number=number)
        try:
            return Response(table_preview(folder=selectors.version_folder(version=version), **query.validated_data))
        except PreviewError as exc:
            raise ValidationError({"sort": [str(exc)]}) from None

    @extend_schema(parameters=[_ID, _NUMBER], responses={200: _PROFILE, 400: _TABLE_UNAVAILABLE, 404: _NOT_FOUND})
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>[^/]+)/profile")
    def profile(self, request: Request, pk: str, number: str) -> Response:
        """Statistics of every column: counts, missing, unique, range, mean, histogram, top values."""
        version = selectors.version_get(dataset=self.get_object(), number=number)
        return Response(selectors.version_profile(version=version))

    @extend_schema(
        parameters=[_ID, _NUMBER, DownloadQuerySerializer],
        responses={
            (200, "application/vnd.apache.parquet"): OpenApiResponse(
                OpenApiTypes.BINARY, description="Parquet, or CSV with format=csv",
            ),
            400: _BAD_REQUEST,
            404: _NOT_FOUND,
        },
    )
    @action(
        detail=True, methods=["get"], url_path=r"versions/(?P<number>[^/]+)/download",
        content_negotiation_class=FileNegotiation,
    )
    def download(self, request: Request, pk: str, number: str) -> FileResponse:
        """The version's table as Parquet, or as CSV (`format=csv`). Formulas in CSV text cells
        are escaped unless `escape_formulas=false`, or the Export Data step that made the
        version turned that off."""
        query = DownloadQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        version = selectors.version_get(dataset=self.get_object(), number=number)
        folder = selectors.version_folder(version=version)
        asked = dict(query.validated_data)
        if asked["escape_formulas"] is None:
            asked["escape_formulas"] = export_options(folder)["escape_formulas"]
        return table_download(folder, f"{version.dataset.name}-v{version.number}.parquet", asked)
