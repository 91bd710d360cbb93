"""Pipelines (drafts owned by a user) and their immutable, numbered versions."""
from __future__ import annotations

from django.conf import settings
from django.db import models


class Pipeline(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pipelines")
    # Copies of the current version's document's name and description, for lists and search.
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # The number of the newest version: what a save must be based on (0 before the first).
    current_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            # People tell their pipelines apart by name (services give a copy "name (2)").
            models.UniqueConstraint(fields=["owner", "name"], name="pipeline_name_unique_per_owner"),
        ]

    def __str__(self) -> str:
        return self.name


class PipelineVersion(models.Model):
    """One save of a pipeline: the pipeline file as data (layout included). Never changed:
    a save that merges into the latest version of its editing session replaces it with the
    next number (services.pipeline_save), so a number always names one document."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    document = models.JSONField()
    message = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The editor session (one opening of the editor) that saved it; "" for any other save.
    session = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "number"], name="pipeline_version_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.pipeline} v{self.number}"
