"""The run lifecycle: submitting a pipeline to run, rerunning, cloning to a draft, cancelling.
State is written by runs.recording and runs execute by runs.execution (here, or on workers)."""
from __future__ import annotations

import time
from typing import Any, Iterable, Mapping

import pandas as pd
from django.contrib.auth.models import User
from django.db import transaction
from rest_framework import status
from rest_framework.exceptions import APIException

from designer import engine_settings
from designer.compute.availability import environment_of
from designer.engine.compiler import Plan
from designer.engine.errors import GraphError, PipelineInvalid
from designer.engine.events import ACTIVE, RunStatusEvent, Status, StepStatusEvent, Waiting
from designer.engine.pipeline_file import PipelineDoc, pipeline_from_data
from designer.engine.serving import serve
from designer.engine.step_errors import StepError
from designer.pipelines.models import Pipeline
from designer.pipelines.selectors import pipeline_get, version_document, version_get
from designer.pipelines.services import pipeline_create
from designer.pipelines.validation import pipeline_prepare, pipeline_validate

from . import dispatch
from .execution import executor_build
from .models import Run, RunKind, RunSource, StepRun
from .recording import run_record_event


@transaction.atomic
def run_create(
    *,
    doc: PipelineDoc,
    plan: Plan,
    source: str,
    user: User | None = None,
    force_rerun: bool = False,
    force_nodes: Iterable[str] = (),
    pipeline_version: Any = None,
    kind: str = RunKind.PIPELINE,
    job: Mapping[str, Any] | None = None,
    experiment: str = "",
) -> Run:
    run = Run.objects.create(
        kind=kind,
        job=dict(job or {}),
        experiment=experiment,
        pipeline_name=doc.name,
        pipeline_version=pipeline_version,
        pipeline=doc.to_data(),
        plan=plan.to_json(),
        parameters=plan.parameters,
        compute=doc.settings.default_compute,
        force_rerun=force_rerun,
        force_nodes=list(force_nodes),
        source=source,
        created_by=user if user is not None and user.is_authenticated else None,
    )
    StepRun.objects.bulk_create(
        StepRun(run=run, node=s.node, module=s.module, module_version=s.version, compute=s.compute,
                waiting=Waiting.INPUTS.value if s.upstream else "")
        for s in plan.steps
    )
    return run


class RunNotActive(APIException):
    # Services raise it; the API's shared exception handler renders it like any 4xx.
    status_code = status.HTTP_409_CONFLICT
    default_code = "run_not_active"
    default_detail = "the run has already finished"


def run_submit(
    *,
    user: User,
    text: str | bytes | None = None,
    document: Any = None,
    parameters: Mapping[str, Any] | None = None,
    compute: str | None = None,
    force_rerun: bool = False,
    source: str = RunSource.API,
    pipeline_version: Any = None,
    kind: str = RunKind.PIPELINE,
    job: Mapping[str, Any] | None = None,
    experiment: str = "",
) -> Run:
    """Validate and record a run of a pipeline file (`text`) or of a saved pipeline version's
    `document` (`pipeline_version`: the version it is), then hand it to the dispatcher once
    the transaction commits."""
    doc, plan = pipeline_prepare(text=text, document=document, parameters=parameters, compute=compute, user=user)
    refused = _bound_refused(plan, user=user, job=job)
    if refused:
        raise PipelineInvalid(refused)
    with transaction.atomic():
        run = run_create(
            doc=doc, plan=plan, source=source, user=user, force_rerun=force_rerun, pipeline_version=pipeline_version,
            kind=kind, job=job, experiment=experiment,
        )
        dispatch.dispatcher().submit(run_id=run.pk)
    return run


def _bound_refused(plan: Plan, *, user: User | None, job: Mapping[str, Any] | None) -> list[GraphError]:
    """A stored artifact a step reads by its digest (a job's code snapshot) must be one the
    user may read: the snapshot of the job being submitted, or of one of their jobs. Any
    other digest is refused like one that does not exist (it may be another user's data)."""
    if user is None:
        return []  # the operator at the command line reads the whole store anyway
    submitted = ((job or {}).get("snapshot") or {}).get("digest")
    refused = []
    for step in plan.steps:
        for port, digest in step.bound.items():
            if digest == submitted or Run.objects.filter(created_by=user, job__snapshot__digest=digest).exists():
                continue
            refused.append(GraphError(
                "snapshot_not_found", f"none of your jobs has the code snapshot {digest[:12]}…: submit the code as a job",
                node=step.node, port=port,
            ))
    return refused


def _run_copy(*, run: Run, user: User, force_rerun: bool, force_nodes: Iterable[str] = ()) -> Run:
    """A new run of exactly the same snapshot (pipeline file, plan and parameters)."""
    return run_create(
        doc=pipeline_from_data(run.pipeline), plan=Plan.from_json(run.plan), source=RunSource.API, user=user,
        force_rerun=force_rerun, force_nodes=force_nodes, pipeline_version=run.pipeline_version,
        kind=run.kind, job=run.job, experiment=run.experiment,
    )


def run_rerun(*, run: Run, user: User, force_rerun: bool | None = None) -> Run:
    """Run the same snapshot again; steps whose inputs did not change are reused unless forced."""
    with transaction.atomic():
        copy = _run_copy(run=run, user=user, force_rerun=run.force_rerun if force_rerun is None else force_rerun)
        dispatch.dispatcher().submit(run_id=copy.pk)
    return copy


def _downstream_of(plan: Plan, node: str) -> tuple[str, ...]:
    """`node` and every step that depends on it, directly or not (the plan is in topological order)."""
    chosen = {node}
    for step in plan.steps:
        if chosen.intersection(step.upstream):
            chosen.add(step.node)
    return tuple(s.node for s in plan.steps if s.node in chosen)


def run_rerun_from(*, run: Run, user: User, node: str) -> Run:
    """Run the same snapshot again, forcing `node` and everything downstream of it; what is
    upstream is reused through the cache."""
    plan = Plan.from_json(run.plan)
    if node not in {s.node for s in plan.steps}:
        raise PipelineInvalid([GraphError("unknown_node", f"the run has no node {node!r}", node=node)])
    with transaction.atomic():
        copy = _run_copy(run=run, user=user, force_rerun=False, force_nodes=_downstream_of(plan, node))
        dispatch.dispatcher().submit(run_id=copy.pk)
    return copy


def run_clone_to_draft(*, run: Run, user: User, name: str | None = None) -> Any:
    """A new pipeline (a draft owned by `user`) whose first version is the file the run ran."""
    return pipeline_create(
        user=user, document=run.pipeline, name=name or f"{run.pipeline_name} (run {str(run.pk)[:8]})"[:200],
        message=f"cloned from run {run.pk}",
    )


def run_cancel(*, run: Run) -> Run:
    """Stop a run: whoever executes it (an executor of this process or of another server
    process, Celery workers) stops its steps, and a run that nothing executes is marked
    cancelled right away. Never waits for the broker: workers also hear of it at their
    next heartbeat."""
    if Status(run.status).terminal:
        raise RunNotActive()
    if not dispatch.dispatcher().cancel(run_id=run.pk):
        # Nothing executes it (it never started, or its process is gone): nothing else
        # would ever finish it.
        with transaction.atomic():
            for step in run.steps.filter(status__in=[s.value for s in ACTIVE]):
                run_record_event(run_id=run.pk, event=StepStatusEvent(
                    node=step.node, status=Status.CANCELLED, finished_at=time.time(),
                    error=StepError.cancelled().at(step.node).to_json(),
                ))
            run_record_event(run_id=run.pk, event=RunStatusEvent(Status.CANCELLED))
    run.refresh_from_db()
    return run


def pipeline_serve(
    *, pipeline: Pipeline, user: User, inputs: Mapping[str, pd.DataFrame], version: int | None = None,
) -> dict[str, pd.DataFrame]:
    """Serve one request with a pipeline of `user`'s (its current version, or `version`):
    `inputs` holds a table per Web Service Input, by its name; the answer holds a table per
    Web Service Output, by its name. It runs what leads to the Web Service Outputs, as the
    owner's steps on the pipeline's compute, reusing from the cache what the request does
    not change (the last run's trained models); it is not recorded as a run. Raises
    PipelineInvalid when the pipeline cannot serve or the request does not fit it, and
    engine.serving.ServingFailed when a step fails."""
    pipeline = pipeline_get(user=user, pipeline_id=pipeline.pk)  # another user's pipeline is not found
    document, _ = version_document(version=version_get(pipeline=pipeline, number=version))
    resolved = pipeline_validate(doc=pipeline_from_data(document), user=user, serving=True).require()
    return serve(
        resolved, inputs, executor=executor_build(lambda _event: None, user=user),
        resources=engine_settings.step_resources(user), environment_of=environment_of,
        limits=engine_settings.table_limits(),
    )
