"""The shapes of table previews and downloads, for every API that shows a stored table."""
from __future__ import annotations

from rest_framework import serializers

from .previews import MAX_PAGE_ROWS


class PreviewQuerySerializer(serializers.Serializer):
    offset = serializers.IntegerField(required=False, default=0, min_value=0, max_value=2**53)
    limit = serializers.IntegerField(required=False, default=100, min_value=1, max_value=MAX_PAGE_ROWS)
    sort = serializers.CharField(required=False, max_length=300)


class DownloadQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(
        choices=["parquet", "csv"], required=False, default="parquet", help_text="a table's file format",
    )
    escape_formulas = serializers.BooleanField(
        required=False, default=None, allow_null=True,
        help_text=(
            "CSV only: text cells starting with =, +, -, @, a tab or a carriage return get a leading ' so that "
            "spreadsheets show them as text, not run them as formulas (default: true)"
        ),
    )


class TopValueSerializer(serializers.Serializer):
    value = serializers.JSONField()
    count = serializers.IntegerField()


class HistogramSerializer(serializers.Serializer):
    edges = serializers.ListField(child=serializers.FloatField())
    counts = serializers.ListField(child=serializers.IntegerField())


class ColumnStatisticsSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()
    dtype = serializers.CharField()
    role = serializers.CharField(allow_null=True)
    count = serializers.IntegerField()
    missing = serializers.IntegerField()
    unique = serializers.IntegerField()
    # Any JSON value, null included (allow_null would make OpenAPI 3.1's oneOf ambiguous).
    min = serializers.JSONField()
    max = serializers.JSONField()
    mean = serializers.FloatField(allow_null=True)
    std = serializers.FloatField(allow_null=True)
    top_values = TopValueSerializer(many=True)
    histogram = HistogramSerializer(allow_null=True)


class PreviewSerializer(serializers.Serializer):
    total_rows = serializers.IntegerField()
    offset = serializers.IntegerField()
    limit = serializers.IntegerField()
    sort = serializers.CharField(allow_null=True)
    columns = ColumnStatisticsSerializer(many=True)
    rows = serializers.ListField(child=serializers.ListField(child=serializers.JSONField()))
