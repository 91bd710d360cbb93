"""The datasets API's request and response shapes (input validation only; no logic)."""
from __future__ import annotations

import codecs
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from designer.api_defaults import StrictSerializer

from .models import Dataset, DatasetFormat, DatasetVersion
from .services import ReadOptions

# -- responses -----------------------------------------------------------------------------


class DatasetSerializer(serializers.ModelSerializer):
    kind = serializers.SerializerMethodField()

    class Meta:
        model = Dataset
        fields = ["id", "name", "kind", "current_version", "created_at", "updated_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(
        choices=["table", "files"],
        help_text="table: read with Import Data; files: an uploaded zip, read with Import File Dataset",
    ))
    def get_kind(self, dataset: Dataset) -> str:
        fmt = getattr(dataset, "current_format", None)
        if fmt is None:  # not annotated (a dataset just uploaded)
            fmt = dataset.versions.filter(number=dataset.current_version).values_list("format", flat=True).first()
        return "files" if fmt == DatasetFormat.ZIP else "table"


class DatasetVersionSerializer(serializers.ModelSerializer):
    created_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True,
    )
    schema = serializers.ListField(child=serializers.DictField(), help_text="[{name, kind, role}] per column")

    class Meta:
        model = DatasetVersion
        fields = [
            "number", "rows", "columns", "schema", "size_bytes", "original_filename", "format",
            "created_by", "created_at",
        ]
        read_only_fields = fields


class DatasetDetailSerializer(DatasetSerializer):
    latest = serializers.SerializerMethodField(help_text="the newest version")

    class Meta(DatasetSerializer.Meta):
        fields = [*DatasetSerializer.Meta.fields, "latest"]
        read_only_fields = fields

    @extend_schema_field(DatasetVersionSerializer(allow_null=True))
    def get_latest(self, dataset: Dataset) -> dict[str, Any] | None:
        latest = self.context.get("latest")
        return None if latest is None else DatasetVersionSerializer(latest).data


# -- requests ------------------------------------------------------------------------------


class _FileField(serializers.FileField):
    def to_internal_value(self, data: Any) -> Any:
        file = super().to_internal_value(data)
        limit = settings.ATELIER["MAX_UPLOAD_BYTES"]
        if file.size > limit:
            raise serializers.ValidationError(f"the file is larger than {limit:,} bytes", code="too_large")
        return file


class DatasetVersionUploadSerializer(StrictSerializer):
    file = _FileField(
        max_length=255, allow_empty_file=True, help_text="a table: CSV, TSV, JSON records or Parquet"
    )
    # How delimited text is read (as Import Data's params of the same names); Parquet and
    # JSON ignore them.
    encoding = serializers.CharField(
        required=False, default="utf-8", max_length=40, help_text="the text's encoding, e.g. utf-8, latin-1, cp1252",
    )
    delimiter = serializers.ChoiceField(
        required=False, default="auto", choices=[("auto", "detect"), (",", "comma"), (";", "semicolon"),
                                                 ("tab", "tab"), ("|", "pipe")],
        help_text="the field separator of CSV text",
    )
    has_header = serializers.BooleanField(
        required=False, default=True, help_text="the first line holds the column names",
    )

    def validate_encoding(self, encoding: str) -> str:
        try:
            return codecs.lookup(encoding).name
        except LookupError:
            raise serializers.ValidationError(f"unknown encoding {encoding!r}", code="invalid") from None

    def reading(self) -> ReadOptions:
        data = self.validated_data
        return ReadOptions(encoding=data["encoding"], delimiter=data["delimiter"], has_header=data["has_header"])


class DatasetUploadSerializer(DatasetVersionUploadSerializer):
    name = serializers.CharField(
        required=False, max_length=100,
        help_text="the dataset's name (a new version if you have one by that name); the file's name by default",
    )
