"""Reading jobs and experiments; scoped to their owner (another user's answer like none: 404)."""
from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, Max, QuerySet
from rest_framework.exceptions import NotFound

from designer import engine_settings
from designer.runs.models import Run, RunKind
from designer.runs.selectors import folder_files, run_get

_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def job_list(*, user: User) -> QuerySet[Run]:
    return Run.objects.filter(created_by=user, kind=RunKind.JOB).defer("pipeline", "plan").order_by("-created_at")


def job_get(*, user: User, run_id: Any) -> Run:
    run = run_get(user=user, run_id=run_id)
    if run.kind != RunKind.JOB:
        raise NotFound("no such job")
    return run


def job_snapshot_files(*, run: Run) -> dict[str, Any]:
    """The files of the job's snapshot (relative path and size), so a person sees exactly what ran."""
    digest = str((run.job.get("snapshot") or {}).get("digest", ""))
    store = engine_settings.artifact_store()
    if not _DIGEST.match(digest) or not store.exists(digest):
        raise NotFound("the job's snapshot is no longer in the artifact store")
    return {"digest": digest, **folder_files(store.path(digest))}


def experiment_list(*, user: User) -> list[dict[str, Any]]:
    """The user's experiments: name, how many runs, when the last one was made."""
    rows = (
        Run.objects.filter(created_by=user).exclude(experiment="").values("experiment")
        .annotate(runs=Count("id"), last_run_at=Max("created_at")).order_by("-last_run_at")
    )
    return [{"name": r["experiment"], "runs": r["runs"], "last_run_at": r["last_run_at"]} for r in rows]


def experiment_runs(*, user: User, name: str) -> list[dict[str, Any]]:
    """The runs of an experiment, newest first, each with its metrics by step, side by side."""
    runs = list(
        Run.objects.filter(created_by=user, experiment=name).prefetch_related("steps").defer("pipeline", "plan")
        .order_by("-created_at")
    )
    if not runs:
        raise NotFound(f"no experiment named {name[:200]!r}")
    return [
        {
            "id": run.pk, "kind": run.kind, "name": run.pipeline_name, "status": run.status,
            "created_at": run.created_at, "metrics": {s.node: s.metrics for s in run.steps.all() if s.metrics},
        }
        for run in runs
    ]
