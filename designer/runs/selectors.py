"""Reading runs, their steps and their outputs. Everything is scoped to its owner: another
user's run answers exactly like a run that does not exist (NotFound, the API's 404)."""
from __future__ import annotations

import os
import re
import stat
from pathlib import Path, PurePosixPath
from typing import Any, Mapping

import django_filters
from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet

from rest_framework.exceptions import NotFound
from rest_framework.exceptions import ValidationError as BadRequest

from designer import engine_settings
from designer.engine.pipeline_file import NODE_ID
from designer.pipelines import selectors as pipelines
from modules.sdk.artifacts import TABLE_FILE
from modules.sdk.types import PortType

from .models import Run, RunEvent, RunSource, RunStatus, StepRun, StepStatus

_DIGEST = re.compile(r"^[0-9a-f]{64}$")


class _IdFilter(django_filters.NumberFilter):
    # Whole numbers in a database id's range: anything else is a 400, not a query error.
    field_class = forms.IntegerField  # type: ignore[assignment]  # any number field works; the stubs say decimal


class RunFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=RunStatus.choices)
    source = django_filters.ChoiceFilter(choices=RunSource.choices)
    pipeline = django_filters.CharFilter(field_name="pipeline_name", lookup_expr="icontains")
    pipeline_id = _IdFilter(field_name="pipeline_version__pipeline_id", min_value=1, max_value=2**63 - 1)

    class Meta:
        model = Run
        fields = ["status", "source", "pipeline"]


def run_list(*, user: User) -> QuerySet[Run]:
    """The user's runs, each with how many steps it has, reused and failed (what a list of
    runs shows). Lists never show the snapshot; it can be large."""
    return (
        Run.objects.filter(created_by=user).select_related("pipeline_version").defer("pipeline", "plan")
        .annotate(
            steps_total=Count("steps"),
            steps_reused=Count("steps", filter=Q(steps__reused=True)),
            steps_failed=Count("steps", filter=Q(steps__status=StepStatus.FAILED)),
        )
        .order_by("-created_at")  # Meta.ordering does not apply to a query that aggregates
    )


def pipeline_version_get(*, user: User, pipeline_id: Any, version: int | None) -> Any:
    """One of the user's saved pipeline versions (the current one when `version` is None)."""
    pipeline = pipelines.pipeline_get(user=user, pipeline_id=pipeline_id)
    return pipelines.version_get(pipeline=pipeline, number=version)


def run_visible_to(*, user_id: Any, run_id: Any) -> bool:
    """Whether the user may see the run: the one ownership rule, for the API and WebSockets."""
    return Run.objects.filter(pk=run_id, created_by_id=user_id).exists()


def run_get(*, user: User, run_id: Any) -> Run:
    try:
        return Run.objects.select_related("pipeline_version").prefetch_related("steps").get(pk=run_id, created_by=user)
    except (Run.DoesNotExist, ValidationError, ValueError):  # a malformed id is just not found
        raise NotFound("no such run") from None


def step_get(*, run: Run, node: str) -> StepRun:
    # What could not be a node id is not looked up (PostgreSQL refuses NUL bytes, for one).
    step = run.steps.filter(node=node).first() if NODE_ID.match(node) else None
    if step is None:
        raise NotFound(f"the run has no node {node[:100]!r}")
    return step


def step_logs(*, step: StepRun, tail: int | None = None) -> list[str]:
    """The step's log lines, all of them or the last `tail`."""
    events = RunEvent.objects.filter(run_id=step.run_id, type="step_log", payload__node=step.node)
    if tail is None:
        return [line for payload in events.values_list("payload", flat=True) for line in payload["lines"]]
    if tail == 0:
        return []
    # Newest batches first, only until there are enough lines.
    batches: list[list[str]] = []
    count = 0
    for payload in events.order_by("-seq").values_list("payload", flat=True).iterator():
        batches.append(payload["lines"])
        count += len(payload["lines"])
        if count >= tail:
            break
    return [line for batch in reversed(batches) for line in batch][-tail:]


def _artifact_folder(digest: Any) -> Path:
    try:
        valid = isinstance(digest, str) and _DIGEST.match(digest)
        folder = engine_settings.artifact_store().path(digest) if valid else None
    except (OSError, ValueError):  # gone from a remote store, or damaged there
        folder = None
    if folder is None or not folder.is_dir():
        raise NotFound("the artifact is no longer in the store")
    return folder


def step_output(*, step: StepRun, port: str) -> tuple[Mapping[str, Any], Path]:
    """An output port's metadata (type, rows, schema…) and the folder holding its artifact."""
    meta = step.outputs.get(port)
    if not isinstance(meta, dict):
        raise NotFound(f"node {step.node!r} has no output {port[:100]!r}")
    return meta, _artifact_folder(meta.get("artifact"))


def output_is_table(meta: Mapping[str, Any]) -> bool:
    return meta.get("type") == PortType.DATAFRAME.value


def output_download(*, run: Run, step: StepRun, port: str) -> tuple[Path, str, bool]:
    """What to send for an output: a path, a safe file name, and whether the path is a folder
    (to be zipped) rather than a Parquet file."""
    meta, folder = step_output(step=step, port=port)
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{run.pipeline_name}-{step.node}-{port}").strip("-")[:150] or "output"
    if output_is_table(meta):
        return folder / TABLE_FILE, f"{stem}.parquet", False
    return folder, f"{stem}.zip", True


MAX_LISTED_FILES = 5000


def folder_files(folder: Path) -> dict[str, Any]:
    """The plain files of an artifact folder (relative posix path and size), in path order; at
    most MAX_LISTED_FILES, `truncated` when there are more. Links are neither listed nor followed."""
    files: list[dict[str, Any]] = []
    for current, dirs, names in os.walk(folder, followlinks=False):
        relative_dir = Path(current).relative_to(folder)
        for name in names:
            info = os.lstat(os.path.join(current, name))
            if stat.S_ISREG(info.st_mode):
                files.append({"path": (relative_dir / name).as_posix(), "bytes": info.st_size})
    files.sort(key=lambda file: file["path"].split("/"))
    return {"files": files[:MAX_LISTED_FILES], "truncated": len(files) > MAX_LISTED_FILES}


def _files_output(step: StepRun, port: str) -> Path:
    meta, folder = step_output(step=step, port=port)
    if output_is_table(meta):
        raise BadRequest({"port": [f"output {port[:100]!r} is a table, not files: download it whole"]})
    return folder


def output_files(*, step: StepRun, port: str) -> dict[str, Any]:
    """The files of an output that is a folder (a job's ./outputs, its ./logs…)."""
    return {"port": port, **folder_files(_files_output(step, port))}


def output_file(*, step: StepRun, port: str, path: str) -> Path:
    """One file of an output folder by its relative path, which is the client's word: a path
    that is empty, absolute or climbs out (`..`) is refused (400); one that is not a plain
    file of the folder, or passes through a link, is not found (404)."""
    folder = _files_output(step, port)
    relative = PurePosixPath(path)
    if not path or "\0" in path or relative.is_absolute() or ".." in relative.parts or relative == PurePosixPath("."):
        raise BadRequest({"path": [f"{path[:200]!r} is not a path of a file inside output {port[:100]!r}"]})
    target = folder
    for part in relative.parts:
        target = target / part
        try:
            info = os.lstat(target)
        except OSError:
            info = None
        # A link is never followed: it could lead anywhere on the server.
        if info is None or stat.S_ISLNK(info.st_mode):
            raise NotFound(f"output {port[:100]!r} has no file {path[:200]!r}")
    if info is None or not stat.S_ISREG(info.st_mode):
        raise NotFound(f"output {port[:100]!r} has no file {path[:200]!r}")
    return target


def step_image_names(*, step: StepRun) -> list[str]:
    if not step.images:
        return []
    return sorted(p.name for p in _artifact_folder(step.images).iterdir() if p.is_file() and p.suffix == ".png")


def step_image(*, step: StepRun, name: str) -> Path:
    # The name must be one the step produced: never a path built from what the client sent.
    if name not in step_image_names(step=step):
        raise NotFound(f"node {step.node!r} has no image {name[:100]!r}")
    return _artifact_folder(step.images) / name
