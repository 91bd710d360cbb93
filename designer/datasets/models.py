"""Datasets (a name owned by a user) and their immutable, numbered versions.

A version's table lives in the dataset catalog, as Parquet: `<owner's folder>/<name>/v<N>/`
(see designer.engine_settings.datasets_dir); the rows here describe it.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models


class DatasetFormat(models.TextChoices):
    CSV = "csv", "CSV"
    TSV = "tsv", "TSV"
    PARQUET = "parquet", "Parquet"
    JSON = "json", "JSON"
    # Files, not a table: a zip kept as uploaded (Import File Dataset), e.g. a Script Bundle.
    ZIP = "zip", "Zip (files)"


class Dataset(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="datasets")
    # What `import_data` names (source: dataset): a catalog folder name, so a restricted alphabet.
    name = models.CharField(max_length=100)
    # The number of the newest version (0 before the first).
    current_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="dataset_name_unique_per_owner")]

    def __str__(self) -> str:
        return self.name


class DatasetVersion(models.Model):
    """One upload (or export) of a dataset. Never changed."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    rows = models.PositiveBigIntegerField()
    columns = models.PositiveIntegerField()
    # The table's columns as the engine describes them: [{name, kind, role}].
    schema = models.JSONField(default=list)
    # The stored Parquet file's size.
    size_bytes = models.PositiveBigIntegerField()
    # The uploaded file's name, reduced to a safe base name (never used as a path).
    original_filename = models.CharField(max_length=255, blank=True)
    format = models.CharField(max_length=16, choices=DatasetFormat.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "number"], name="dataset_version_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset} v{self.number}"
