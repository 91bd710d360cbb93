"""Executing a run in this process: an executor wired to this deployment's store, compute
targets and the owner's datasets, whose every event is recorded while this process drives
the run; a run taken over after its process stopped reuses what already ended well."""
from __future__ import annotations

import dataclasses
import time
from functools import partial
from typing import Any, Callable

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from designer import engine_settings
from designer.compute.availability import trusted_with_code
from designer.compute.backends import backend_of
from designer.compute.selectors import compute_target_list
from designer.datasets.services import dataset_catalog_for
from designer.engine.compiler import Plan
from designer.engine.events import ACTIVE, SUCCEEDED, Event, RunStatusEvent, Status, StepStatusEvent
from designer.engine.executor import Executor, RunResult, StepResult
from designer.engine.step_errors import StepError
from designer.engine.url_fetch import url_fetch

from . import leases
from .models import Run, StepRun
from .recording import RunNotDriven, run_record_event, step_record_results


def executor_build(
    on_event: Callable[[Event], None], user: User | None = None, placement: dict[str, Any] | None = None,
    on_step_end: Callable[[StepResult], None] | None = None,
) -> Executor:
    """An executor for a run owned by `user` (None: the shared catalog of CLI runs);
    `placement` says where it runs (e.g. which worker), for the step runs to record;
    `on_step_end` gets each step's result before its end is announced."""
    conf = settings.ATELIER
    return Executor(
        store=engine_settings.artifact_store(),
        backends={t.name: backend_of(t) for t in compute_target_list()},
        resources=engine_settings.step_resources(user),
        datasets=dataset_catalog_for(user),
        on_event=on_event,
        on_step_end=on_step_end,
        default_timeout=conf["STEP_TIMEOUT_S"],
        placement=placement,
        trusted=trusted_with_code(user),
        fetch=partial(url_fetch, max_bytes=conf["URL_MAX_BYTES"], allowed_networks=conf["URL_ALLOWED_NETWORKS"]),
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

    executor = executor_build(  # record() stops it if the run is taken
        record, user=owner, on_step_end=lambda step: step_record_results(run_id=run_id, step=step, driver=me),
    )
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
    leases.keeper().hold(run.pk, executor.cancel)
    try:
        result = executor.run(plan, run_id=str(run.pk), force_nodes=forced)
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
