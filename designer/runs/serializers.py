"""The runs API's request and response shapes (validation of input only; no logic)."""
from __future__ import annotations

from typing import Any

from rest_framework import serializers

from designer.engine.pipeline_file import MAX_FILE_BYTES
from designer.pipelines.serializers import ParametersMixin

from .models import Run, StepRun

class StepRunSerializer(serializers.ModelSerializer):
    # The JSON columns, with the shapes the schema promises (a bare JSONField says nothing).
    error = serializers.DictField(
        read_only=True, allow_null=True, help_text="code, message, origin (module, infrastructure, time_limit, memory_limit, user), node",
    )
    placement = serializers.DictField(read_only=True, help_text="where the step ran: worker, image, container…")
    outputs = serializers.DictField(child=serializers.DictField(), read_only=True, help_text="output port -> its artifact")
    metrics = serializers.DictField(child=serializers.FloatField(allow_null=True), read_only=True)
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)
    has_images = serializers.SerializerMethodField()

    class Meta:
        model = StepRun
        fields = [
            "node", "module", "module_version", "compute", "status", "reused", "reused_from", "cache_key",
            "started_at", "finished_at", "duration_s", "error", "placement", "attempts", "outputs", "metrics",
            "warnings", "has_images",
        ]
        read_only_fields = fields

    def get_has_images(self, step: StepRun) -> bool:
        return bool(step.images)


class RunSerializer(serializers.ModelSerializer):
    pipeline_id = serializers.IntegerField(source="pipeline_version.pipeline_id", read_only=True, allow_null=True)
    pipeline_version = serializers.IntegerField(source="pipeline_version.number", read_only=True, allow_null=True)
    parameters = serializers.DictField(read_only=True, help_text="the values of the pipeline's parameters")

    class Meta:
        model = Run
        fields = [
            "id", "pipeline_name", "pipeline_id", "pipeline_version", "status", "source", "compute", "force_rerun",
            "parameters", "created_at", "started_at", "finished_at", "last_seq",
        ]
        read_only_fields = fields


class StepCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField(source="steps_total")
    reused = serializers.IntegerField(source="steps_reused")
    failed = serializers.IntegerField(source="steps_failed")


class RunSummarySerializer(RunSerializer):
    """A run as lists show it: with how many steps it has, reused and failed (the counts
    selectors.run_list annotates)."""

    step_counts = StepCountsSerializer(source="*", read_only=True)

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "step_counts"]
        read_only_fields = fields


class RunDetailSerializer(RunSerializer):
    pipeline = serializers.DictField(read_only=True, help_text="the pipeline file the run ran, as data")
    steps = StepRunSerializer(many=True, read_only=True)

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "pipeline", "steps"]
        read_only_fields = fields


class RunSubmitSerializer(ParametersMixin, serializers.Serializer):
    """Exactly one of: `file` (a pipeline file, multipart), `pipeline_id` (a saved pipeline;
    its current version unless `version`), or `pipeline` (the file's structure as JSON)."""

    file = serializers.FileField(required=False, max_length=255)
    pipeline_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    pipeline = serializers.JSONField(required=False)
    parameters = serializers.JSONField(required=False, default=dict)
    compute = serializers.CharField(required=False, max_length=100)
    force_rerun = serializers.BooleanField(required=False, default=False)

    def validate_file(self, file: Any) -> bytes:
        if file.size > MAX_FILE_BYTES:
            raise serializers.ValidationError(f"the file is larger than {MAX_FILE_BYTES >> 20} MiB", code="too_large")
        return file.read()

    def validate_pipeline(self, pipeline: Any) -> dict[str, Any]:
        if not isinstance(pipeline, dict):
            raise serializers.ValidationError(
                "pipeline must be an object: the pipeline file's structure as JSON", code="invalid"
            )
        return pipeline

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if sum(key in attrs for key in ("file", "pipeline_id", "pipeline")) != 1:
            raise serializers.ValidationError(
                "send exactly one of a pipeline file, a pipeline_id or a pipeline", code="one_source"
            )
        if "version" in attrs and "pipeline_id" not in attrs:
            raise serializers.ValidationError({"version": ["a version goes with a pipeline_id"]}, code="invalid")
        return attrs


class RunRerunSerializer(serializers.Serializer):
    force_rerun = serializers.BooleanField(required=False, allow_null=True, default=None)


class RunCloneSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=200)


class ClonedPipelineSerializer(serializers.Serializer):
    pipeline_id = serializers.IntegerField()
    name = serializers.CharField()
    version = serializers.IntegerField()


class LogsQuerySerializer(serializers.Serializer):
    tail = serializers.IntegerField(required=False, min_value=0, max_value=100_000)


class LogsSerializer(serializers.Serializer):
    node = serializers.CharField()
    lines = serializers.ListField(child=serializers.CharField(allow_blank=True))


class MetricsSerializer(serializers.Serializer):
    node = serializers.CharField()
    metrics = serializers.DictField(child=serializers.FloatField(allow_null=True))
    visuals = serializers.DictField()
    warnings = serializers.ListField(child=serializers.CharField())
    images = serializers.ListField(child=serializers.CharField())


class OutputFileSerializer(serializers.Serializer):
    path = serializers.CharField(help_text="relative to the output's folder, `/` between folders")
    bytes = serializers.IntegerField()


class OutputFilesSerializer(serializers.Serializer):
    port = serializers.CharField()
    files = OutputFileSerializer(many=True)
    truncated = serializers.BooleanField(help_text="more files than listed")


class OutputFileQuerySerializer(serializers.Serializer):
    path = serializers.CharField(max_length=4096, trim_whitespace=False, help_text="a path from the output's file list")
