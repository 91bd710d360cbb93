from __future__ import annotations

from rest_framework import serializers

from .models import ComputeTarget, Environment
from .backends import compute_target_available


class EnvironmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Environment
        fields = ["name", "description", "base_image", "requirements", "with_r", "status", "image_tag", "built_at", "build_log"]
        read_only_fields = fields


class ComputeTargetSerializer(serializers.ModelSerializer):
    environment: serializers.SlugRelatedField[Environment] = serializers.SlugRelatedField(
        slug_field="name", read_only=True, allow_null=True,
    )
    available = serializers.SerializerMethodField(help_text="False when its engine is not reachable now.")

    class Meta:
        model = ComputeTarget
        fields = ["name", "description", "backend", "capacity", "memory_mb", "cpus", "pids", "environment", "available"]
        read_only_fields = fields

    def get_available(self, target: ComputeTarget) -> bool:
        return compute_target_available(target)
