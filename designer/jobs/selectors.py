"""Reading jobs and experiments; scoped to their owner (another user's answer like none: 404)."""
from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, Max, QuerySet
from django.utils import timezone
from rest_framework.exceptions import NotFound

from designer import engine_settings
from designer.compute.models import ComputeTarget, EnvironmentStatus
from designer.engine.job_file import JOB_NODE
from designer.runs.models import Run, RunKind, StepStatus
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


def job_environment(*, run: Run) -> dict[str, Any]:
    """The environment the job runs in: none of its own on a target without one (local: the
    server's Python, as Azure's local runs); otherwise its base image, requirements and image,
    whether the image was built while this job waited for it or reused, and the build's log
    (pip's output; pip's message when it failed)."""
    compute = str(run.job.get("compute") or "")
    target = ComputeTarget.objects.select_related("environment").filter(name=compute).first()
    environment = target.environment if target is not None else None
    body: dict[str, Any] = {"compute": compute, "environment": None, "built_for_this_job": False, "build_log": ""}
    if environment is None:
        return body
    step = run.steps.filter(node=JOB_NODE).first()
    started = step.started_at if step is not None else None
    ended = (step.finished_at if step is not None else None) or timezone.now()
    built_here = environment.built_at is not None and started is not None and started <= environment.built_at <= ended
    # A failed build leaves no image and no time: a job whose step failed for its compute, on an
    # environment with no image since (failed, or being built again), shows its log.
    failed_here = (
        environment.status != EnvironmentStatus.READY and step is not None and step.status == StepStatus.FAILED
        and (step.error or {}).get("origin") == "infrastructure"
    )
    body.update({
        "environment": {
            "name": environment.name, "base_image": environment.base_image, "image_tag": environment.image_tag,
            "requirements": environment.requirement_lines(), "status": environment.status,
            "built_at": environment.built_at,
        },
        "built_for_this_job": built_here or failed_here,
        "build_log": environment.build_log,
    })
    return body


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
