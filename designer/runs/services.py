"""Run business logic: preparing, recording and executing runs."""
from __future__ import annotations

import dataclasses
import datetime as dt
import time
from typing import Any, Callable, Iterable, Mapping

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from rest_framework import status
from rest_framework.exceptions import APIException

from designer.engine.compiler import Plan, compile_plan
from designer.engine.errors import GraphError, PipelineInvalid
from designer.engine.events import ACTIVE, SUCCEEDED, Event, RunStatusEvent, Status, StepStatusEvent
from designer.engine.executor import Executor, RunResult
from designer.engine.pipeline_file import PipelineDoc, load_pipeline, pipeline_from_data
from designer.engine.schema_propagation import propagate_schemas
from designer.engine.step_errors import StepError
from designer.engine.validation import Validation, validate_pipeline
from designer.realtime.publish import publish_run_event

from . import dispatch, engine_config, leases
from .models import Run, RunEvent, RunSource, StepRun


def pipeline_validate(
    *, doc: PipelineDoc, parameters: Mapping[str, Any] | None = None, compute: str | None = None,
    user: User | None = None,
) -> Validation:
    """Validate the whole graph, including the columns params name where they can be known,
    for a run by `user` (None: the operator at the command line)."""
    if compute:
        doc = doc.model_copy(update={"settings": doc.settings.model_copy(update={"default_compute": compute})})
    validation = validate_pipeline(
        doc, registry=engine_config.registry(), parameters=parameters, computes=engine_config.compute_targets(),
        unavailable=engine_config.unavailable_compute_targets(), code_refused=engine_config.code_refused(user),
        runtimes=engine_config.compute_runtimes(),
    )
    if validation.resolved is not None:
        _, column_errors = propagate_schemas(validation.resolved)
        if column_errors:
            return Validation(errors=column_errors, resolved=None)
    return validation


def _owner(user: User | None) -> User | None:
    """Whose dataset catalog a run reads: None (the shared one) for anonymous or CLI runs."""
    return user if user is not None and user.is_authenticated else None


def pipeline_prepare(
    *,
    text: str | bytes | None = None,
    document: Any = None,
    parameters: Mapping[str, Any] | None = None,
    compute: str | None = None,
    user: User | None = None,
) -> tuple[PipelineDoc, Plan]:
    """Parse (file `text`, or `document`: the file's structure as plain data), validate and
    compile a pipeline; raises PipelineInvalid with every error. Registered datasets are
    looked up in `user`'s catalog (the shared one when None)."""
    if (text is None) == (document is None):
        raise TypeError("pipeline_prepare takes either text or document")
    doc = load_pipeline(text) if text is not None else pipeline_from_data(document)
    resolved = pipeline_validate(doc=doc, parameters=parameters, compute=compute, user=user).require()
    return resolved.doc, compile_plan(
        resolved, resources=engine_config.step_resources(_owner(user)), environment_of=engine_config.environment_of
    )


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
) -> Run:
    run = Run.objects.create(
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
        StepRun(run=run, node=s.node, module=s.module, module_version=s.version, compute=s.compute)
        for s in plan.steps
    )
    return run


def _when(timestamp: float | None) -> dt.datetime | None:
    return None if timestamp is None else dt.datetime.fromtimestamp(timestamp, tz=dt.timezone.utc)


class RunNotDriven(Exception):
    """The run is no longer this process's to execute: another one took it over."""


@transaction.atomic
def run_record_event(
    *, run_id: Any, event: Event, result: RunResult | None = None, driver: str | None = None
) -> RunEvent:
    """The one place run and step state changes are written, each with its sequence number.
    With `driver`, only while that process drives the run (else RunNotDriven, nothing written)."""
    runs = Run.objects.filter(pk=run_id)
    if driver is not None:
        runs = runs.filter(driver=driver)
    if not runs.update(last_seq=F("last_seq") + 1) and driver is not None:
        raise RunNotDriven(run_id)
    run = Run.objects.only("last_seq", "started_at").get(pk=run_id)
    payload = event.to_json()
    if isinstance(event, StepStatusEvent):
        StepRun.objects.filter(run_id=run_id, node=event.node).update(
            status=event.status.value,
            reused=event.reused,
            reused_from=event.reused_from or "",
            cache_key=event.cache_key or "",
            started_at=_when(event.started_at),
            finished_at=_when(event.finished_at),
            duration_s=event.duration_s,
            error=event.error,
            **({"placement": event.placement} if event.placement is not None else {}),
        )
    elif isinstance(event, RunStatusEvent):
        now = dt.datetime.now(tz=dt.timezone.utc)
        changes: dict[str, Any] = {"status": event.status.value}
        if event.status is Status.RUNNING and run.started_at is None:
            changes["started_at"] = now
        if event.status.terminal:
            changes["finished_at"] = now
        Run.objects.filter(pk=run_id).update(**changes)
    recorded = RunEvent.objects.create(run_id=run_id, seq=run.last_seq, type=event.type, payload=payload)
    # Sent once committed, so no client hears of state that is rolled back. Robust: the event
    # is stored by then, so a failing channel layer must not fail the run (subscribers read
    # what they missed from the database at their next event or reconnection).
    transaction.on_commit(lambda: publish_run_event(recorded), robust=True)
    return recorded


@transaction.atomic
def _record_results(*, run: Run, result: RunResult, driver: str) -> None:
    if not Run.objects.select_for_update().filter(pk=run.pk, driver=driver).exists():
        return  # taken over meanwhile: the new driver records its own results
    for node, step in result.steps.items():
        StepRun.objects.filter(run=run, node=node).update(
            outputs=step.outputs, metrics=step.metrics, visuals=step.visuals, images=step.images or "",
            warnings=step.warnings,
        )


def run_executor_build(*, run_id: Any, on_event: Callable[[Event], None] | None = None) -> Executor:
    """An executor whose every event is recorded against run `run_id` (then passed to on_event)
    while this process drives the run; taken over by another, it stops. Its steps read, and
    Export Data registers into, the run owner's dataset catalog."""
    run = Run.objects.select_related("created_by").filter(pk=run_id).first()
    owner = run.created_by if run is not None else None
    me = str(leases.this_process())

    def record(event: Event) -> None:
        try:
            run_record_event(run_id=run_id, event=event, driver=me)
        except RunNotDriven:
            executor.cancel()
            return
        if on_event is not None:
            on_event(event)

    executor = engine_config.build_executor(record, user=owner)  # record() stops it if the run is taken
    return executor


def _resumed(run: Run, plan: Plan) -> tuple[Plan, set[str]]:
    """The plan to execute `run` with, and the nodes it forces. A run taken over after its
    process stopped keeps what its finished steps made (found in the cache, as their outputs
    were stored when they ended), even when the run forces steps to run again: those ran."""
    done = set(run.steps.filter(status__in=[s.value for s in SUCCEEDED]).values_list("node", flat=True))
    every = run.force_rerun or plan.force_rerun
    forced = {s.node for s in plan.steps if every or s.force_rerun or s.node in run.force_nodes}
    if not done:
        return plan, forced
    steps = tuple(dataclasses.replace(s, force_rerun=False) for s in plan.steps)
    return dataclasses.replace(plan, force_rerun=False, steps=steps), forced - done


def run_execute(
    *,
    run: Run,
    on_event: Callable[[Event], None] | None = None,
    executor: Executor | None = None,
) -> RunResult:
    """Execute a recorded run here, in this process (steps in their own processes); steps
    that already ended well (a run taken over from a process that stopped) are reused.

    Pass an `executor` from run_executor_build to keep a handle on it (to cancel the run
    from another thread); otherwise one is built that forwards events to `on_event`. Raises
    RunNotDriven when another process drives the run.
    """
    if not leases.claim(run_id=run.pk):
        raise RunNotDriven(run.pk)
    if executor is None:
        executor = run_executor_build(run_id=run.pk, on_event=on_event)
    plan, forced = _resumed(run, Plan.from_json(run.plan))
    me = str(leases.this_process())
    leases.keeper().hold(run.pk, executor.cancel)
    try:
        result = executor.run(
            plan, run_id=str(run.pk), force_nodes=forced,
            before_final_status=lambda outcome: _record_results(run=run, result=outcome, driver=me),
        )
    finally:
        leases.keeper().release(run.pk)
    run.refresh_from_db()
    return result


@transaction.atomic
def run_interrupt(*, run_id: Any, message: str) -> None:
    """End a run that nothing can go on with (its process stopped and it cannot be resumed):
    each unfinished step fails as `interrupted` with `message`, and so does the run. Only
    by the run's driver (RunNotDriven otherwise)."""
    me = str(leases.this_process())
    now = time.time()
    for step in StepRun.objects.filter(run_id=run_id, status__in=[s.value for s in ACTIVE]):
        started = step.started_at.timestamp() if step.started_at else now
        run_record_event(run_id=run_id, driver=me, event=StepStatusEvent(
            node=step.node, status=Status.FAILED, started_at=started, finished_at=now,
            duration_s=round(now - started, 3), cache_key=step.cache_key or None,
            error=StepError.interrupted(message).at(step.node).to_json(),
        ))
    run_record_event(run_id=run_id, driver=me, event=RunStatusEvent(Status.FAILED))


# -- the API's run lifecycle ------------------------------------------------------------


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
) -> Run:
    """Validate and record a run of a pipeline file (`text`) or of a saved pipeline version's
    `document` (`pipeline_version`: the version it is), then hand it to the dispatcher once
    the transaction commits."""
    doc, plan = pipeline_prepare(text=text, document=document, parameters=parameters, compute=compute, user=user)
    with transaction.atomic():
        run = run_create(
            doc=doc, plan=plan, source=source, user=user, force_rerun=force_rerun, pipeline_version=pipeline_version
        )
        dispatch.dispatcher().submit(run_id=run.pk)
    return run


def _run_copy(*, run: Run, user: User, force_rerun: bool, force_nodes: Iterable[str] = ()) -> Run:
    """A new run of exactly the same snapshot (pipeline file, plan and parameters)."""
    return run_create(
        doc=pipeline_from_data(run.pipeline), plan=Plan.from_json(run.plan), source=RunSource.API, user=user,
        force_rerun=force_rerun, force_nodes=force_nodes, pipeline_version=run.pipeline_version,
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
    # pipelines.services builds on this module (validation), so it is imported at call time.
    from designer.pipelines.services import pipeline_create

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
