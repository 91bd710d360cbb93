"""Run business logic: preparing, recording and executing runs."""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Mapping

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F

from designer.engine.compiler import Plan, compile_plan
from designer.engine.events import Event, RunStatusEvent, Status, StepStatusEvent
from designer.engine.executor import RunResult
from designer.engine.pipeline_file import PipelineDoc, load_pipeline
from designer.engine.validation import Validation, validate_pipeline

from . import engine_config
from .models import Run, RunEvent, StepRun


def pipeline_validate(
    *, doc: PipelineDoc, parameters: Mapping[str, Any] | None = None, compute: str | None = None
) -> Validation:
    if compute:
        doc = doc.model_copy(update={"settings": doc.settings.model_copy(update={"default_compute": compute})})
    return validate_pipeline(
        doc, registry=engine_config.registry(), parameters=parameters, computes=engine_config.compute_targets()
    )


def pipeline_prepare(
    *, text: str | bytes, parameters: Mapping[str, Any] | None = None, compute: str | None = None
) -> tuple[PipelineDoc, Plan]:
    """Parse, validate and compile a pipeline file; raises PipelineInvalid with every error."""
    doc = load_pipeline(text)
    resolved = pipeline_validate(doc=doc, parameters=parameters, compute=compute).require()
    return resolved.doc, compile_plan(resolved, resources=engine_config.step_resources())


@transaction.atomic
def run_create(
    *,
    doc: PipelineDoc,
    plan: Plan,
    source: str,
    user: AbstractBaseUser | None = None,
    force_rerun: bool = False,
) -> Run:
    run = Run.objects.create(
        pipeline_name=doc.name,
        pipeline=doc.to_data(),
        plan=plan.to_json(),
        parameters=plan.parameters,
        compute=doc.settings.default_compute,
        force_rerun=force_rerun,
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


@transaction.atomic
def run_record_event(*, run_id: Any, event: Event, result: RunResult | None = None) -> RunEvent:
    """The one place run and step state changes are written, each with its sequence number."""
    Run.objects.filter(pk=run_id).update(last_seq=F("last_seq") + 1)
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
        )
    elif isinstance(event, RunStatusEvent):
        now = dt.datetime.now(tz=dt.timezone.utc)
        changes: dict[str, Any] = {"status": event.status.value}
        if event.status is Status.RUNNING and run.started_at is None:
            changes["started_at"] = now
        if event.status.terminal:
            changes["finished_at"] = now
        Run.objects.filter(pk=run_id).update(**changes)
    return RunEvent.objects.create(run_id=run_id, seq=run.last_seq, type=event.type, payload=payload)


@transaction.atomic
def _record_results(*, run: Run, result: RunResult) -> None:
    for node, step in result.steps.items():
        StepRun.objects.filter(run=run, node=node).update(
            outputs=step.outputs, metrics=step.metrics, visuals=step.visuals, images=step.images or "",
            warnings=step.warnings,
        )


def run_execute(
    *, run: Run, on_event: Callable[[Event], None] | None = None, force_nodes: tuple[str, ...] = ()
) -> RunResult:
    """Execute a recorded run here, in this process (steps in their own processes)."""

    def record(event: Event) -> None:
        run_record_event(run_id=run.pk, event=event)
        if on_event is not None:
            on_event(event)

    executor = engine_config.build_executor(record)
    result = executor.run(
        Plan.from_json(run.plan), run_id=str(run.pk), force_rerun=run.force_rerun, force_nodes=force_nodes
    )
    _record_results(run=run, result=result)
    run.refresh_from_db()
    return result

