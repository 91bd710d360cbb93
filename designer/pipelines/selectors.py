"""Reading pipelines, their versions and the module catalog. Pipelines are scoped to their
owner: another user's pipeline answers exactly like one that does not exist (NotFound, the
API's 404)."""
from __future__ import annotations

from typing import Any

import django_filters
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from rest_framework.exceptions import NotFound

from designer.engine.errors import PipelineInvalid
from designer.engine.module_versions import NodeUpgrade, upgrade_document
from designer.engine.pipeline_file import load_pipeline, pipeline_from_data
from designer import engine_settings
from designer.samples import sample_pipeline_files

from .models import Pipeline, PipelineVersion


def pipeline_list(*, user: User) -> QuerySet[Pipeline]:
    return Pipeline.objects.filter(owner=user)


def pipeline_get(*, user: User, pipeline_id: Any) -> Pipeline:
    try:
        return Pipeline.objects.get(pk=pipeline_id, owner=user)
    except (Pipeline.DoesNotExist, ValidationError, ValueError, TypeError, OverflowError):
        # A malformed or out-of-range id is just an id that does not exist.
        raise NotFound("no such pipeline") from None


def version_list(*, pipeline: Pipeline) -> QuerySet[PipelineVersion]:
    return pipeline.versions.select_related("created_by")


def version_get(*, pipeline: Pipeline, number: Any = None) -> PipelineVersion:
    """Version `number` of the pipeline; its current version when `number` is None."""
    try:
        return pipeline.versions.select_related("created_by").get(
            number=pipeline.current_version if number is None else number
        )
    except (PipelineVersion.DoesNotExist, ValidationError, ValueError, TypeError, OverflowError):
        raise NotFound(f"the pipeline has no version {number}") from None


def version_document(*, version: PipelineVersion) -> tuple[dict[str, Any], list[NodeUpgrade]]:
    """A saved version's document as it opens today: nodes saved with an older version of
    their module upgraded through its migration, and what was upgraded. The stored version is
    left as it was saved; the next save stores the upgrade."""
    try:
        doc = pipeline_from_data(version.document)
    except PipelineInvalid:
        return version.document, []  # saved under older file rules: shown as it is, for fixing
    upgraded = upgrade_document(doc, registry=engine_settings.registry())
    if not upgraded.upgrades:
        return version.document, []
    return upgraded.doc.to_data(), upgraded.upgrades


class PipelineFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=200)

    class Meta:
        model = Pipeline
        fields = ["name"]


def module_list() -> list[dict[str, Any]]:
    """The catalog the canvas's palette shows: the newest version of every module."""
    return [cls.spec.to_json() for cls in engine_settings.registry()]


def module_get(*, module_id: str, version: int | None = None) -> dict[str, Any]:
    cls = engine_settings.registry().get(module_id, version)
    if cls is None:
        raise NotFound(f"no module {module_id!r}" + ("" if version is None else f" version {version}"))
    return cls.spec.to_json()


def sample_list() -> list[dict[str, str]]:
    """The sample pipelines shipped with Atelier: `slug` (to start a draft from), name, description."""
    samples = []
    for path in sample_pipeline_files():
        doc = load_pipeline(path.read_bytes())
        samples.append({"slug": path.stem, "name": doc.name, "description": doc.description or ""})
    return samples
