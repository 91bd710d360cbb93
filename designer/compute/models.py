"""Compute targets (where steps run) and environments (the images docker steps run in)."""
from __future__ import annotations

from django.db import models

# The Debian package that brings R (Rscript) into an environment's image.
R_PACKAGE = "r-base-core"


class EnvironmentStatus(models.TextChoices):
    PENDING = "pending", "Not built yet"
    BUILDING = "building", "Building"
    READY = "ready", "Ready"
    FAILED = "failed", "Build failed"


class Environment(models.Model):
    """A base image plus Python requirements; its digest names the image built from it."""

    name = models.SlugField(max_length=100, unique=True)
    description = models.CharField(max_length=500, blank=True)
    base_image = models.CharField(
        max_length=300, blank=True, help_text="Empty: the deployment's base image (ATELIER_DOCKER_BASE_IMAGE)."
    )
    requirements = models.TextField(
        blank=True,
        help_text="Pinned Python requirements, one per line, on top of what the built-in modules need.",
    )
    with_r = models.BooleanField(
        default=False, help_text="Install R (Debian's r-base-core) in the image, for Execute R Script.",
    )
    status = models.CharField(max_length=20, choices=EnvironmentStatus.choices, default=EnvironmentStatus.PENDING)
    image_tag = models.CharField(max_length=200, blank=True)
    build_log = models.TextField(blank=True)
    built_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def requirement_lines(self) -> list[str]:
        return self.requirements.splitlines()

    def system_packages(self) -> tuple[str, ...]:
        return (R_PACKAGE,) if self.with_r else ()


class ComputeTarget(models.Model):
    """Where steps run. Empty limits take the deployment's defaults (settings)."""

    name = models.SlugField(max_length=100, unique=True)
    description = models.CharField(max_length=500, blank=True)
    backend = models.CharField(
        max_length=100, help_text="Its kind of compute backend: local, docker, or one a pack registers.",
    )
    capacity = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Steps running at once.")
    memory_mb = models.PositiveIntegerField(null=True, blank=True, help_text="Memory limit per step.")
    cpus = models.FloatField(null=True, blank=True, help_text="CPUs per step (docker).")
    pids = models.PositiveIntegerField(null=True, blank=True, help_text="Processes per step (docker).")
    environment = models.ForeignKey(
        Environment, null=True, blank=True, on_delete=models.PROTECT, related_name="targets",
        help_text="The image docker steps run in (docker only).",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(backend="docker") | models.Q(environment__isnull=False),
                name="docker_target_has_environment",
            )
        ]

    def __str__(self) -> str:
        return self.name
