"""The pipelines API: thin views over pipelines.services and pipelines.selectors."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers as drf_serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from designer.api_defaults import SafeJSONParser, signed_in
from designer.engine.pipeline_file import MAX_FILE_BYTES
from designer.sign_in_limits import SignInThrottle

from . import selectors, services
from .models import Pipeline
from .serializers import (
    ConflictSerializer, ExportQuerySerializer, ModuleQuerySerializer, ModuleSpecSerializer,
    PipelineCreateSerializer, PipelineDetailSerializer, PipelineDuplicateSerializer, PipelineImportSerializer,
    PipelineInfoSerializer, PipelineSaveSerializer, PipelineSerializer, PipelineValidateSerializer,
    PipelineVersionDetailSerializer, PipelineVersionSerializer, SampleSerializer, TokenSerializer, UserSerializer,
    ValidationResultSerializer,
)

_ERRORS = inline_serializer("PipelineErrors", {"errors": drf_serializers.ListField(child=drf_serializers.DictField())})
_BAD_REQUEST = OpenApiResponse(_ERRORS, description="malformed request or pipeline file; each error says where")
_NOT_FOUND = OpenApiResponse(_ERRORS, description="no such pipeline or version (or not yours)")
_CONFLICT = OpenApiResponse(ConflictSerializer, description="base_version is not the current version")
_THROTTLED = OpenApiResponse(_ERRORS, description="too many sign-in attempts from this address: see Retry-After")
# Declared by hand: the lookup takes any text (for a structured 404), which hides the type.
_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="a pipeline id")


class _PipelineFileParser(BaseParser):
    """A pipeline file sent as the raw request body (YAML or JSON), kept as bytes so that the
    engine's loader (which catches duplicate keys) parses it."""

    media_type = "*/*"

    # Returns the raw bytes, not parsed data as DRF's parsers do: the engine parses them.
    def parse(  # type: ignore[override]
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> bytes:
        return stream.read(MAX_FILE_BYTES + 1) if stream is not None else b""


class _FileFormatNegotiation(DefaultContentNegotiation):
    """`?format=` names the exported file's format here, not a response renderer."""

    def filter_renderers(self, renderers: Iterable[BaseRenderer], format: str) -> list[BaseRenderer]:
        return list(renderers)


def _conflict(exc: services.PipelineConflict) -> Response:
    return Response(
        {
            "errors": [{"code": "version_conflict", "message": str(exc.detail), "field": "base_version"}],
            "current_version": exc.current.number,
            "document": exc.current.document,
        },
        status=status.HTTP_409_CONFLICT,
    )


class PipelineViewSet(viewsets.GenericViewSet):
    """Pipelines of the signed-in user, their versions, validation, import and export."""

    serializer_class = PipelineSerializer
    filterset_class = selectors.PipelineFilter
    parser_classes = [SafeJSONParser]
    # Any id reaches the view and gets a structured 404.
    lookup_value_regex = "[^/]+"

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user, just the model
            return Pipeline.objects.none()
        return selectors.pipeline_list(user=signed_in(self.request))

    def get_object(self) -> Pipeline:
        return selectors.pipeline_get(user=signed_in(self.request), pipeline_id=self.kwargs["pk"])

    def _detail(self, pipeline: Pipeline, status_code: int = status.HTTP_200_OK) -> Response:
        document, upgrades = selectors.version_document(version=selectors.version_get(pipeline=pipeline))
        context = {"document": document, "upgrades": upgrades}
        return Response(PipelineDetailSerializer(pipeline, context=context).data, status=status_code)

    def list(self, request: Request) -> Response:
        """The signed-in user's pipelines, most recently changed first."""
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(PipelineSerializer(page, many=True).data)

    @extend_schema(request=PipelineCreateSerializer, responses={201: PipelineDetailSerializer, 400: _BAD_REQUEST})
    def create(self, request: Request) -> Response:
        """Create a pipeline from a name (an empty graph) or a document; it is version 1."""
        form = PipelineCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        pipeline = services.pipeline_create(user=signed_in(request), **form.validated_data)
        return self._detail(pipeline, status.HTTP_201_CREATED)

    @extend_schema(parameters=[_ID], responses={200: PipelineDetailSerializer, 404: _NOT_FOUND})
    def retrieve(self, request: Request, pk: str) -> Response:
        """A pipeline with its current version's document; nodes saved with an older version of
        their module come upgraded (params migrated), each listed in `upgrades`."""
        return self._detail(self.get_object())

    @extend_schema(
        parameters=[_ID],
        request=PipelineSaveSerializer,
        responses={200: PipelineDetailSerializer, 400: _BAD_REQUEST, 404: _NOT_FOUND, 409: _CONFLICT},
    )
    def update(self, request: Request, pk: str) -> Response:
        """Save a new version. 409, with the current version and its document, when
        `base_version` is not the current version: nothing is overwritten."""
        pipeline = self.get_object()
        form = PipelineSaveSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            services.pipeline_save(pipeline=pipeline, user=signed_in(request), **form.validated_data)
        except services.PipelineConflict as exc:
            return _conflict(exc)
        return self._detail(pipeline)

    @extend_schema(
        parameters=[_ID],
        request=PipelineInfoSerializer,
        responses={200: PipelineDetailSerializer, 400: _BAD_REQUEST, 404: _NOT_FOUND, 409: _CONFLICT},
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        """Rename or re-describe a pipeline (a new version); `base_version` is optional here."""
        pipeline = self.get_object()
        form = PipelineInfoSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            services.pipeline_update_info(pipeline=pipeline, user=signed_in(request), **form.validated_data)
        except services.PipelineConflict as exc:
            return _conflict(exc)
        return self._detail(pipeline)

    @extend_schema(parameters=[_ID], responses={204: None, 404: _NOT_FOUND})
    def destroy(self, request: Request, pk: str) -> Response:
        """Delete a pipeline and all its versions (runs keep their own snapshot)."""
        services.pipeline_delete(pipeline=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(parameters=[_ID], responses={200: PipelineVersionSerializer(many=True), 404: _NOT_FOUND}, filters=False)
    @action(detail=True, methods=["get"])
    def versions(self, request: Request, pk: str) -> Response:
        """Every saved version of a pipeline, newest first (without their documents)."""
        page = self.paginate_queryset(selectors.version_list(pipeline=self.get_object()))
        return self.get_paginated_response(PipelineVersionSerializer(page, many=True).data)

    @extend_schema(
        parameters=[_ID, OpenApiParameter("number", int, OpenApiParameter.PATH, description="a version number")],
        responses={200: PipelineVersionDetailSerializer, 404: _NOT_FOUND},
    )
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>[^/]+)")
    def version(self, request: Request, pk: str, number: str) -> Response:
        """One saved version, with its document."""
        version = selectors.version_get(pipeline=self.get_object(), number=number)
        return Response(PipelineVersionDetailSerializer(version).data)

    @extend_schema(
        parameters=[_ID],
        request=PipelineDuplicateSerializer,
        responses={201: PipelineDetailSerializer, 400: _BAD_REQUEST, 404: _NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def duplicate(self, request: Request, pk: str) -> Response:
        """A new pipeline starting from this one's current version ("Copy of …" unless named)."""
        pipeline = self.get_object()
        form = PipelineDuplicateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        copy = services.pipeline_duplicate(pipeline=pipeline, user=signed_in(request), **form.validated_data)
        return self._detail(copy, status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[_ID],
        request=PipelineValidateSerializer,
        responses={200: ValidationResultSerializer, 400: _BAD_REQUEST, 404: _NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def validate(self, request: Request, pk: str) -> Response:
        """Validate the current version, another `version`, or an unsaved `document`: every
        problem, each naming its node (and port or param), as data."""
        pipeline = self.get_object()
        form = PipelineValidateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        document = (
            data["document"] if "document" in data
            else selectors.version_get(pipeline=pipeline, number=data.get("version")).document
        )
        check = services.pipeline_check(
            document=document, user=signed_in(request), parameters=data["parameters"], compute=data.get("compute")
        )
        return Response({
            "valid": not check.errors, "errors": [e.to_json() for e in check.errors], "schemas": check.schemas,
        })

    @extend_schema(responses={200: SampleSerializer(many=True)}, filters=False)
    @action(detail=False, methods=["get"], pagination_class=None)  # a short list, whole
    def samples(self, request: Request) -> Response:
        """The sample pipelines shipped with Atelier, to start a draft from."""
        return Response(SampleSerializer(selectors.sample_list(), many=True).data)

    @extend_schema(
        request=None,
        parameters=[OpenApiParameter("slug", str, OpenApiParameter.PATH, description="a sample's slug")],
        responses={201: PipelineDetailSerializer, 404: _NOT_FOUND},
    )
    @action(detail=False, methods=["post"], url_path=r"samples/(?P<slug>[^/]+)")
    def from_sample(self, request: Request, slug: str) -> Response:
        """A new draft from a sample pipeline."""
        return self._detail(services.pipeline_from_sample(user=signed_in(request), slug=slug), status.HTTP_201_CREATED)

    @extend_schema(
        request={
            "multipart/form-data": PipelineImportSerializer,
            "application/yaml": OpenApiTypes.STR,
            "text/plain": OpenApiTypes.STR,
        },
        responses={201: PipelineDetailSerializer, 400: _BAD_REQUEST, 413: _ERRORS},
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser, _PipelineFileParser])
    def import_file(self, request: Request) -> Response:
        """Import a pipeline file (YAML or JSON) as a new pipeline: a multipart `file`, or the
        file as the raw request body. A malformed file is refused with every error; a
        well-formed file with graph errors is imported as a draft."""
        if isinstance(request.data, bytes):
            pipeline = services.pipeline_import(user=signed_in(request), text=request.data)
        else:
            form = PipelineImportSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            pipeline = services.pipeline_import(
                user=signed_in(request), text=form.validated_data["file"], name=form.validated_data.get("name")
            )
        return self._detail(pipeline, status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[_ID, ExportQuerySerializer],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="the pipeline file"),
            400: _BAD_REQUEST,
            404: _NOT_FOUND,
        },
    )
    @action(detail=True, methods=["get"], content_negotiation_class=_FileFormatNegotiation)
    def export(self, request: Request, pk: str) -> HttpResponse:
        """Download the pipeline file (current version unless `version`) as YAML or JSON."""
        pipeline = self.get_object()
        query = ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        number = query.validated_data.get("version")
        text, filename = services.pipeline_export(
            pipeline=pipeline, fmt=query.validated_data["format"],
            version=None if number is None else selectors.version_get(pipeline=pipeline, number=number),
        )
        content_type = "application/json" if query.validated_data["format"] == "json" else "application/yaml"
        return HttpResponse(
            text.encode(), content_type=f"{content_type}; charset=utf-8",
            headers={"Content-Disposition": content_disposition_header(True, filename)},
        )


class ModuleViewSet(viewsets.ViewSet):
    """The module catalog: each module's spec (ports, params, help), for the canvas."""

    lookup_value_regex = "[^/]+"

    @extend_schema(responses={200: ModuleSpecSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """The newest version of every module, by id."""
        return Response(selectors.module_list())

    @extend_schema(parameters=[ModuleQuerySerializer], responses={200: ModuleSpecSerializer, 404: _NOT_FOUND})
    def retrieve(self, request: Request, pk: str) -> Response:
        """One module's spec: its newest version, or `version`."""
        query = ModuleQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(selectors.module_get(module_id=pk, version=query.validated_data.get("version")))


class TokenView(APIView):
    """Trade a username and password for the API token of scripts and the CLI."""

    # No session here: a browser signed in elsewhere must not need a CSRF token to get one.
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [SignInThrottle]
    parser_classes = [SafeJSONParser, MultiPartParser]

    @extend_schema(
        request=AuthTokenSerializer, responses={200: TokenSerializer, 400: _BAD_REQUEST, 429: _THROTTLED}, auth=[],
    )
    def post(self, request: Request) -> Response:
        form = AuthTokenSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        token, _ = Token.objects.get_or_create(user=form.validated_data["user"])
        return Response({"token": token.key})


class MeView(APIView):
    @extend_schema(responses={200: UserSerializer})
    def get(self, request: Request) -> Response:
        """The signed-in user."""
        return Response(UserSerializer(signed_in(request)).data)
