"""The pipelines API's request and response shapes (input validation only; no logic)."""
from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from designer.api_defaults import StrictSerializer
from designer.engine.pipeline_file import MAX_FILE_BYTES

from .models import Pipeline, PipelineVersion

_MAX_VERSION = 2**31 - 1


# -- responses -----------------------------------------------------------------------------


class PipelineSerializer(serializers.ModelSerializer):
    class Meta:
        model = Pipeline
        fields = ["id", "name", "description", "current_version", "created_at", "updated_at"]
        read_only_fields = fields


class NodeUpgradeSerializer(serializers.Serializer):
    node = serializers.CharField()
    from_module = serializers.CharField()
    from_version = serializers.IntegerField(allow_null=True)
    to_module = serializers.CharField()
    to_version = serializers.IntegerField()
    message = serializers.CharField()


class PipelineDetailSerializer(PipelineSerializer):
    document = serializers.SerializerMethodField(
        help_text="the current version's pipeline file, as data, with nodes of older module versions upgraded"
    )
    upgrades = serializers.SerializerMethodField(
        help_text="the nodes whose module version was upgraded (params migrated) on opening; "
        "the next save stores the upgrade"
    )

    class Meta(PipelineSerializer.Meta):
        fields = [*PipelineSerializer.Meta.fields, "document", "upgrades"]
        read_only_fields = fields

    def get_document(self, pipeline: Pipeline) -> dict[str, Any]:
        return self.context["document"]

    @extend_schema_field(NodeUpgradeSerializer(many=True))
    def get_upgrades(self, pipeline: Pipeline) -> list[dict[str, Any]]:
        return [upgrade.to_json() for upgrade in self.context["upgrades"]]


class PipelineVersionSerializer(serializers.ModelSerializer):
    created_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True,
    )

    class Meta:
        model = PipelineVersion
        fields = ["number", "message", "created_by", "created_at"]
        read_only_fields = fields


class PipelineVersionDetailSerializer(PipelineVersionSerializer):
    class Meta(PipelineVersionSerializer.Meta):
        fields = [*PipelineVersionSerializer.Meta.fields, "document"]
        read_only_fields = fields


# Response shapes with a key named like an attribute of DRF's Serializer or Field (errors,
# label, required): DRF takes them as fields all the same; only the stubs object.


class ConflictSerializer(serializers.Serializer):
    errors = serializers.ListField(child=serializers.DictField())  # type: ignore[assignment]
    current_version = serializers.IntegerField()
    document = serializers.DictField(help_text="the current version's pipeline file, as data")


class GraphErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    node = serializers.CharField(allow_null=True)
    port = serializers.CharField(required=False)
    param = serializers.CharField(required=False)
    details = serializers.DictField(required=False)


class ValidationResultSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    errors = GraphErrorSerializer(many=True)  # type: ignore[assignment]
    schemas = serializers.DictField(
        child=serializers.DictField(child=serializers.ListField(child=serializers.DictField(), allow_null=True)),
        help_text="node -> output port -> columns [{name, kind, role}] (null: unknown before a run); "
        "empty unless the graph is valid",
    )


class SampleSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)


class UserSerializer(serializers.ModelSerializer):
    email = serializers.CharField(read_only=True, help_text="blank when the account has none")

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email", "first_name", "last_name"]
        read_only_fields = fields


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


class PortSpecSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()
    optional = serializers.BooleanField(required=False)
    help = serializers.CharField()


class ParamSpecSerializer(serializers.Serializer):
    """A param declaration; kinds add their own keys (min/max, choices…)."""

    name = serializers.CharField()
    type = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    required = serializers.BooleanField()  # type: ignore[assignment]
    default = serializers.JSONField()  # any JSON value, null included
    help = serializers.CharField()
    when = serializers.DictField(
        child=serializers.ListField(child=serializers.JSONField()), required=False,
        help_text="when the param applies: while each named param has one of the listed values (always when absent)",
    )


class ModuleSpecSerializer(serializers.Serializer):
    id = serializers.CharField()
    version = serializers.IntegerField()
    name = serializers.CharField()
    category = serializers.CharField()
    description = serializers.CharField()
    help = serializers.CharField()
    deterministic = serializers.BooleanField()
    replaces = serializers.ListField(child=serializers.CharField())
    inputs = PortSpecSerializer(many=True)
    outputs = PortSpecSerializer(many=True)
    params = ParamSpecSerializer(many=True)
    request_input = serializers.BooleanField(
        help_text="a Web Service Input: never a step; it feeds an input beside the data that input takes in a run",
    )
    keywords = serializers.ListField(
        child=serializers.CharField(), help_text="other words for what it does, which the palette's search finds it by",
    )


# -- requests ------------------------------------------------------------------------------


_SCALAR = (str, int, float, bool, type(None))


class ParametersMixin:
    """A request's pipeline `parameters`: an object of names to scalars (a multipart form
    carries it as JSON text)."""

    def validate_parameters(self, parameters: Any) -> dict[str, Any]:
        if isinstance(parameters, str):
            try:
                parameters = json.loads(parameters)
            except ValueError:
                raise serializers.ValidationError("parameters must be a JSON object", code="invalid") from None
        if not isinstance(parameters, dict) or not all(isinstance(v, _SCALAR) for v in parameters.values()):
            raise serializers.ValidationError(
                "parameters must be an object of names to numbers, strings or booleans", code="invalid"
            )
        return parameters


class PipelineCreateSerializer(StrictSerializer):
    """A new pipeline: a `name` (an empty graph), a `document` (a pipeline file as data), or
    both (the name replaces the document's)."""

    name = serializers.CharField(required=False, max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    document = serializers.JSONField(required=False)
    message = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if "name" not in attrs and "document" not in attrs:
            raise serializers.ValidationError({"name": ["give a name or a document"]}, code="required")
        return attrs


class PipelineSaveSerializer(StrictSerializer):
    document = serializers.JSONField(help_text="the whole pipeline file, as data (layout included)")
    base_version = serializers.IntegerField(
        help_text="the version this document was edited from; 409 if it is no longer current",
        min_value=0, max_value=_MAX_VERSION,
    )
    message = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    session = serializers.CharField(
        required=False, allow_blank=True, max_length=64, default="",
        help_text="the editor session saving (any id, one per opening of the editor): its saves less than 30 "
        "minutes apart make one version, each taking the next number in place of the previous one, unless a run "
        "used it",
    )


class PipelineInfoSerializer(StrictSerializer):
    name = serializers.CharField(required=False, max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    base_version = serializers.IntegerField(required=False, min_value=0, max_value=_MAX_VERSION)
    message = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if "name" not in attrs and "description" not in attrs:
            raise serializers.ValidationError({"name": ["give a name or a description to change"]}, code="required")
        return attrs


class PipelineDuplicateSerializer(StrictSerializer):
    name = serializers.CharField(required=False, max_length=200)


class PipelineValidateSerializer(ParametersMixin, StrictSerializer):
    """What to validate: the current version (default), another `version`, or a `document`
    (e.g. the canvas's unsaved draft); with pipeline `parameters` and a `compute` target."""

    version = serializers.IntegerField(required=False, min_value=0, max_value=_MAX_VERSION)
    document = serializers.JSONField(required=False)
    parameters = serializers.JSONField(required=False, default=dict)
    compute = serializers.CharField(required=False, max_length=100)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if "version" in attrs and "document" in attrs:
            raise serializers.ValidationError("give a version or a document, not both", code="one_source")
        return attrs


class PipelineImportSerializer(StrictSerializer):
    file = serializers.FileField(max_length=255, help_text="a pipeline file, YAML or JSON")
    name = serializers.CharField(required=False, max_length=200, help_text="replaces the file's name")

    def validate_file(self, file: Any) -> bytes:
        if file.size > MAX_FILE_BYTES:
            raise serializers.ValidationError(f"the file is larger than {MAX_FILE_BYTES >> 20} MiB", code="too_large")
        return file.read()


class ExportQuerySerializer(StrictSerializer):
    format = serializers.ChoiceField(choices=["yaml", "json"], default="yaml")
    version = serializers.IntegerField(required=False, min_value=0, max_value=_MAX_VERSION)


class ModuleQuerySerializer(StrictSerializer):
    version = serializers.IntegerField(required=False, min_value=0, max_value=_MAX_VERSION)
