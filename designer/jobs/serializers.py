"""The jobs API's request and response shapes (no logic)."""
from __future__ import annotations

from rest_framework import serializers

from designer.engine.pipeline_file import MAX_FILE_BYTES
from designer.runs.serializers import RunDetailSerializer, RunSerializer


class JobSubmitSerializer(serializers.Serializer):
    job = serializers.CharField(max_length=MAX_FILE_BYTES, help_text="the job file (atelier/job@1), YAML or JSON")
    code = serializers.FileField(help_text="the code folder as a zip; its .amlignore or .gitignore applies")
    compute = serializers.CharField(required=False, max_length=100, help_text="overrides the job file's compute")


class JobSerializer(RunSerializer):
    kind = serializers.CharField(read_only=True)
    experiment = serializers.CharField(read_only=True)

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "kind", "experiment"]
        read_only_fields = fields


class JobDetailSerializer(RunDetailSerializer):
    kind = serializers.CharField(read_only=True)
    experiment = serializers.CharField(read_only=True)
    job = serializers.DictField(read_only=True, help_text="the job file as submitted (`file`) and its snapshot")

    class Meta(RunDetailSerializer.Meta):
        fields = [*RunDetailSerializer.Meta.fields, "kind", "experiment", "job"]
        read_only_fields = fields


class ExperimentSerializer(serializers.Serializer):
    name = serializers.CharField()
    runs = serializers.IntegerField()
    last_run_at = serializers.DateTimeField()


class ExperimentRunSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    metrics = serializers.DictField(
        child=serializers.DictField(child=serializers.FloatField(allow_null=True)),
        help_text="step -> metric -> value (the last value logged)",
    )


class SnapshotFileSerializer(serializers.Serializer):
    path = serializers.CharField()
    bytes = serializers.IntegerField()


class SnapshotSerializer(serializers.Serializer):
    digest = serializers.CharField()
    files = SnapshotFileSerializer(many=True)
    truncated = serializers.BooleanField(help_text="more files than listed")


class JobEnvironmentDetailSerializer(serializers.Serializer):
    name = serializers.CharField()
    base_image = serializers.CharField(help_text="empty: the deployment's base image")
    image_tag = serializers.CharField(help_text="atelier-env:<digest of the base image and requirements>")
    requirements = serializers.ListField(child=serializers.CharField())
    status = serializers.CharField()
    built_at = serializers.DateTimeField(allow_null=True)


class JobEnvironmentSerializer(serializers.Serializer):
    compute = serializers.CharField()
    environment = JobEnvironmentDetailSerializer(
        allow_null=True, help_text="null: the target has no environment (local: the server's own Python)",
    )
    built_for_this_job = serializers.BooleanField(help_text="the image was built (or failed to build) for this job")
    build_log = serializers.CharField(allow_blank=True, help_text="the log of the build that made the image (pip's output)")
