"""Reading datasets, their versions and their tables. Datasets are scoped to their owner:
another user's dataset answers exactly like one that does not exist (NotFound, the API's 404)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import django_filters
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, QuerySet, Subquery
from rest_framework.exceptions import NotFound

from designer import engine_settings
from designer.tables.previews import table_statistics
from modules.sdk.artifacts import TABLE_FILE

from .models import Dataset, DatasetFormat, DatasetVersion


def _with_current_format(datasets: QuerySet[Dataset]) -> QuerySet[Dataset]:
    """`current_format` on each: its newest version's format (a zip makes it a file dataset)."""
    newest = DatasetVersion.objects.filter(dataset=OuterRef("pk"), number=OuterRef("current_version"))
    return datasets.annotate(current_format=Subquery(newest.values("format")[:1]))


def dataset_list(*, user: User) -> QuerySet[Dataset]:
    return _with_current_format(Dataset.objects.filter(owner=user))


def dataset_get(*, user: User, dataset_id: Any) -> Dataset:
    try:
        return _with_current_format(Dataset.objects.select_related("owner")).get(pk=dataset_id, owner=user)
    except (Dataset.DoesNotExist, ValidationError, ValueError, TypeError, OverflowError):
        # A malformed or out-of-range id is just an id that does not exist.
        raise NotFound("no such dataset") from None


def version_list(*, dataset: Dataset) -> QuerySet[DatasetVersion]:
    return dataset.versions.select_related("created_by")


def version_get(*, dataset: Dataset, number: Any) -> DatasetVersion:
    try:
        return dataset.versions.select_related("created_by", "dataset__owner").get(number=number)
    except (DatasetVersion.DoesNotExist, ValidationError, ValueError, TypeError, OverflowError):
        raise NotFound(f"the dataset has no version {number}") from None


def version_folder(*, version: DatasetVersion) -> Path:
    """The catalog folder holding the version's table (what `import_data` reads)."""
    dataset = version.dataset
    folder = engine_settings.datasets_dir(dataset.owner) / dataset.name / f"v{version.number}"
    if version.format == DatasetFormat.ZIP:
        raise NotFound(f"version {version.number} holds files (a zip), not a table: it has no rows to show or download")
    if not (folder / TABLE_FILE).is_file():
        raise NotFound(f"the table of version {version.number} is missing from the dataset catalog")
    return folder


def version_profile(*, version: DatasetVersion) -> dict[str, Any]:
    """Statistics of every column of the version's table (the outputs panel's, reused)."""
    return table_statistics(folder=version_folder(version=version))


class DatasetFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=100)

    class Meta:
        model = Dataset
        fields = ["name"]
