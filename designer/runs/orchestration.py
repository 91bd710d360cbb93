"""Distributed runs: every step is a Celery task on its compute target's queue.

Orchestration is event-driven. `run_advance` looks at a run's steps under a lock on the
run's row, reuses what the cache already holds, skips what a failure blocks, dispatches
what became ready and ends the run when nothing is left. It runs when the run is
submitted and whenever one of its steps ends; nothing polls the database for it.

A worker runs a step with its own executor (`step_execute`) and says it is alive every
few seconds. A step whose worker went silent (killed, machine gone) is found by the sweep
beat schedules: it is dispatched once more as a new task, or fails as "worker lost" when
it already had its second chance. Every dispatch has its own task id, and a worker only
starts or finishes the step whose current task id is its own: a late duplicate never runs
a step twice or writes its outputs over another attempt's.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from functools import partial
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections, transaction

from designer.engine.compiler import Plan, PlanStep
from designer.engine.events import (
    ACTIVE, SUCCEEDED, Event, RunStatusEvent, Status, StepLogEvent, StepStatusEvent,
)
from designer.engine.executor import Executor, StepResult, cache_decision, reuse_into, step_inputs

from . import engine_config
from .models import Run, StepRun
from .services import run_record_event

logger = logging.getLogger(__name__)

_BLOCKING = (Status.FAILED, Status.SKIPPED, Status.CANCELLED)


def _now() -> dt.datetime:
    return dt.datetime.now(tz=dt.timezone.utc)


def _step_event(row: StepRun, status: Status, **fields: Any) -> None:
    """Record a step's new state (and keep the row in hand in step with it)."""
    now = time.time()
    started = fields.pop("started_at", None) or (row.started_at.timestamp() if row.started_at else now)
    finished = now if status.terminal else None
    run_record_event(run_id=row.run_id, event=StepStatusEvent(
        node=row.node, status=status, started_at=started if status is not Status.QUEUED else None,
        finished_at=finished, duration_s=round(finished - started, 3) if finished else None,
        cache_key=row.cache_key or None, **fields,
    ))
    row.status = status.value


def _record_outputs(row: StepRun, result: StepResult) -> None:
    row.outputs, row.metrics, row.visuals = result.outputs, result.metrics, result.visuals
    row.images, row.warnings = result.images or "", result.warnings
    row.save(update_fields=["outputs", "metrics", "visuals", "images", "warnings"])


def _send(task_id: str, *, run_id: str, node: str, queue: str) -> None:
    from .tasks import step_execute

    step_execute.apply_async(kwargs={"run_id": run_id, "node": node, "task_id": task_id}, task_id=task_id, queue=queue)


def _dispatch(row: StepRun, step: PlanStep) -> None:
    """Give the step a new task, sent once the state that says so is committed."""
    row.task_id = uuid.uuid4().hex
    row.heartbeat_at = None
    row.dispatched_at, row.unserved_noted = _now(), False
    row.save(update_fields=["task_id", "heartbeat_at", "cache_key", "dispatched_at", "unserved_noted"])
    task_id, run_id = row.task_id, str(row.run_id)
    transaction.on_commit(lambda: _send(task_id, run_id=run_id, node=step.node, queue=step.compute))


def run_advance(*, run_id: Any) -> None:
    """Move run `run_id` on: reuse, skip or dispatch every step that can move, and end the
    run when all its steps have ended. Safe to call any number of times."""
    with transaction.atomic():
        run = Run.objects.select_for_update().filter(pk=run_id).first()
        if run is None or Status(run.status).terminal:
            return
        if run.status == Status.QUEUED.value:
            run_record_event(run_id=run.pk, event=RunStatusEvent(Status.RUNNING))
        plan = Plan.from_json(run.plan)
        rows = {row.node: row for row in run.steps.all()}
        store = engine_config.artifact_store()
        moved = True
        while moved:  # a reused or skipped step can unblock the next one at once
            moved = False
            failed = any(row.status == Status.FAILED.value for row in rows.values())
            halted = run.cancel_requested or (failed and not plan.continue_on_step_failure)
            for step in plan.steps:
                row = rows[step.node]
                if row.status != Status.QUEUED.value or row.task_id:
                    continue
                upstream = [Status(rows[node].status) for node in step.upstream]
                if halted or any(status in _BLOCKING for status in upstream):
                    _step_event(row, Status.CANCELLED if run.cancel_requested else Status.SKIPPED)
                    moved = True
                    continue
                if not all(status in SUCCEEDED for status in upstream):
                    continue
                inputs = step_inputs(step, {node: rows[node].outputs for node in step.upstream})
                row.cache_key, entry = cache_decision(
                    store, plan, step, inputs, force_rerun=run.force_rerun, forced=run.force_nodes
                )
                if entry is None:
                    _dispatch(row, step)
                    continue
                result = StepResult(step.node)
                reuse_into(result, entry)
                _record_outputs(row, result)
                _step_event(row, Status.REUSED, reused=True, reused_from=result.reused_from,
                            started_at=result.started_at)
                moved = True
        if all(Status(row.status).terminal for row in rows.values()):
            if run.cancel_requested:
                final = Status.CANCELLED
            elif all(Status(row.status) in SUCCEEDED for row in rows.values()):
                final = Status.COMPLETED
            else:
                final = Status.FAILED
            run_record_event(run_id=run.pk, event=RunStatusEvent(final))


def run_cancel_request(*, run_id: Any) -> None:
    """Stop a distributed run: steps not started are cancelled now, workers running its
    steps are told to stop them, and the run ends once they have."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        if Status(run.status).terminal:
            return
        run.cancel_requested = True
        run.save(update_fields=["cancel_requested"])
        for row in run.steps.filter(status=Status.QUEUED.value, attempts=0):
            _step_event(row, Status.CANCELLED, error={
                "code": "cancelled", "origin": "user", "message": "cancelled by the user", "node": row.node,
            })
        if run.steps.filter(status__in=[s.value for s in ACTIVE]).exists():
            key = str(run.pk)
            transaction.on_commit(lambda: _broadcast_cancel(key))
    run_advance(run_id=run_id)


def _broadcast_cancel(run_id: str) -> None:
    from designer.celery import app

    app.control.broadcast("atelier_cancel_run", arguments={"run_id": run_id})


# -- the worker's side -------------------------------------------------------------------------


class _LiveSteps:
    """The executors of this worker process, by run: cancel requests reach them here."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_run: dict[str, set[Executor]] = {}

    def add(self, run_id: str, executor: Executor) -> None:
        with self._lock:
            self._by_run.setdefault(run_id, set()).add(executor)

    def remove(self, run_id: str, executor: Executor) -> None:
        with self._lock:
            self._by_run.get(run_id, set()).discard(executor)
            if not self._by_run.get(run_id):
                self._by_run.pop(run_id, None)

    def cancel(self, run_id: str) -> int:
        with self._lock:
            executors = list(self._by_run.get(run_id, ()))
        for executor in executors:
            executor.cancel()
        return len(executors)


live_steps = _LiveSteps()


@dataclass
class _Claim:
    row: StepRun
    step: PlanStep
    inputs: dict[str, str]


def _locked_step(run_id: Any, node: str) -> StepRun | None:
    """The step's row, locked after its run's row: every step transition takes the two
    locks in this order (recording an event updates the run's row too), so none deadlock."""
    Run.objects.select_for_update().filter(pk=run_id).first()
    return StepRun.objects.select_for_update().select_related("run").filter(run_id=run_id, node=node).first()


def _claim(*, run_id: str, node: str, task_id: str) -> _Claim | None:
    """Take the step for this attempt, or None when it is not ours to run (a stale or
    duplicate task, a step already ended, a run cancelled, a step out of chances)."""
    with transaction.atomic():
        row = _locked_step(run_id, node)
        if row is None or row.task_id != task_id or Status(row.status).terminal:
            return None
        if row.run.cancel_requested:
            _step_event(row, Status.CANCELLED, error={
                "code": "cancelled", "origin": "user", "message": "cancelled by the user", "node": node,
            })
            transaction.on_commit(lambda: run_advance(run_id=run_id))
            return None
        if row.attempts >= settings.DISPATCH["MAX_ATTEMPTS"]:
            # Redelivered after its last attempt's worker died: no more chances.
            _fail_lost(row)
            return None
        row.attempts += 1
        row.heartbeat_at = _now()
        row.save(update_fields=["attempts", "heartbeat_at"])
        plan = Plan.from_json(row.run.plan)
        step = next(s for s in plan.steps if s.node == node)
        outputs = {r.node: r.outputs for r in row.run.steps.filter(node__in=step.upstream)}
        return _Claim(row=row, step=step, inputs=step_inputs(step, outputs))


def _heartbeat(*, run_id: str, node: str, task_id: str, executor: Executor, stop: threading.Event) -> None:
    """Say the step's worker is alive until `stop`; stop the step if it was given to
    another worker meanwhile (this one was taken for lost)."""
    try:
        while not stop.wait(settings.DISPATCH["HEARTBEAT_S"]):
            if not StepRun.objects.filter(run_id=run_id, node=node, task_id=task_id).update(heartbeat_at=_now()):
                executor.cancel()
                return
    except Exception:
        logger.exception("step %s/%s: heartbeat failed", run_id, node)
    finally:
        connections.close_all()


def step_execute(*, run_id: str, node: str, task_id: str, worker: str) -> None:
    """Run one dispatched step in this worker, record how it ended and move its run on."""
    close_old_connections()
    claim = _claim(run_id=run_id, node=node, task_id=task_id)
    if claim is None:
        return
    ended: list[StepStatusEvent] = []

    def record(event: Event) -> None:
        # The step's final state is recorded together with its outputs (below), so whoever
        # hears "completed" finds them; everything else goes out as it happens.
        if isinstance(event, StepStatusEvent) and event.status.terminal:
            ended.append(event)
        else:
            run_record_event(run_id=run_id, event=event)

    executor = engine_config.build_executor(record, user=claim.row.run.created_by, placement={"worker": worker})
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, kwargs={
        "run_id": run_id, "node": node, "task_id": task_id, "executor": executor, "stop": stop,
    }, daemon=True, name=f"heartbeat-{node}")
    live_steps.add(run_id, executor)
    beat.start()
    try:
        result = executor.run_step(claim.step, inputs=claim.inputs, run_id=run_id, cache_key=claim.row.cache_key)
    finally:
        stop.set()
        live_steps.remove(run_id, executor)
        beat.join()
    _finish(run_id=run_id, node=node, task_id=task_id, result=result, ended=ended)
    run_advance(run_id=run_id)


@transaction.atomic
def _finish(*, run_id: str, node: str, task_id: str, result: StepResult, ended: list[StepStatusEvent]) -> None:
    row = _locked_step(run_id, node)
    if row is None or row.task_id != task_id or Status(row.status).terminal:
        # Another attempt owns the step now (this worker was taken for lost): its outputs win.
        logger.warning("step %s/%s: attempt %s ended after it was superseded; result dropped", run_id, node, task_id)
        return
    if result.status is Status.COMPLETED:
        _record_outputs(row, result)
    for event in ended:
        run_record_event(run_id=run_id, event=event)


def _fail_lost(row: StepRun) -> None:
    _step_event(row, Status.FAILED, error={
        "code": "worker_lost", "origin": "infrastructure", "node": row.node,
        "message": (
            f"the worker running this step stopped responding (attempt {row.attempts} of "
            f"{settings.DISPATCH['MAX_ATTEMPTS']}); the step was not retried again"
        ),
    })
    run_id = row.run_id
    transaction.on_commit(lambda: run_advance(run_id=run_id))


def steps_sweep_lost(*, now: dt.datetime | None = None) -> int:
    """Retry once, or fail as "worker lost", every step whose worker has gone silent;
    returns how many steps it found."""
    cutoff = (now or _now()) - dt.timedelta(seconds=settings.DISPATCH["WORKER_LOST_AFTER_S"])
    found = 0
    stale = StepRun.objects.filter(
        status__in=[s.value for s in ACTIVE], attempts__gt=0, heartbeat_at__lt=cutoff
    ).values_list("run_id", "node")
    for run_id, node in list(stale):
        with transaction.atomic():
            row = _locked_step(run_id, node)
            if row is None or Status(row.status).terminal or row.heartbeat_at is None or row.heartbeat_at >= cutoff:
                continue  # it moved on since the query
            found += 1
            if row.run.cancel_requested:
                _step_event(row, Status.CANCELLED, error={
                    "code": "cancelled", "origin": "user", "message": "cancelled by the user", "node": node,
                })
                transaction.on_commit(partial(run_advance, run_id=run_id))
            elif row.attempts < settings.DISPATCH["MAX_ATTEMPTS"]:
                run_record_event(run_id=run_id, event=StepLogEvent(node, [
                    "the worker running this step stopped responding; the step runs again on another worker",
                ]))
                plan = Plan.from_json(row.run.plan)
                _step_event(row, Status.QUEUED)
                _dispatch(row, next(s for s in plan.steps if s.node == node))
            else:
                _fail_lost(row)
    return found


def queues_served() -> set[str]:
    """The queues some live worker reads (asked of the workers themselves)."""
    from designer.celery import app

    replies = app.control.inspect(timeout=1.0).active_queues() or {}  # None: no worker answered
    return {queue["name"] for queues in replies.values() for queue in queues or ()}


def steps_note_unserved(*, now: dt.datetime | None = None) -> int:
    """Tell the runs of steps sent a while ago to a queue no worker reads why they wait:
    a compute target needs a worker of its own. Once per dispatch; the step goes on
    waiting, as a worker may yet start. Returns how many steps were noted."""
    cutoff = (now or _now()) - dt.timedelta(seconds=settings.DISPATCH["UNSERVED_AFTER_S"])
    waiting = StepRun.objects.filter(
        status=Status.QUEUED.value, unserved_noted=False, dispatched_at__lt=cutoff
    ).exclude(task_id="")
    if not waiting.exists():  # the usual case: no need to ask the workers
        return 0
    noted = 0
    for run_id, node in list(waiting.exclude(compute__in=queues_served()).values_list("run_id", "node")):
        with transaction.atomic():
            row = _locked_step(run_id, node)
            if row is None or row.status != Status.QUEUED.value or row.unserved_noted:
                continue
            run_record_event(run_id=run_id, event=StepLogEvent(node, [
                f"waiting: no worker takes steps for compute {row.compute!r}; the step starts when one does "
                f"(celery -A designer worker -Q {row.compute})",
            ]))
            row.unserved_noted = True
            row.save(update_fields=["unserved_noted"])
            noted += 1
    return noted


def runs_sweep_stalled(*, older_than_s: float = 60.0) -> None:
    """Move on runs recorded but never advanced (the process that submitted them died
    between its commit and its first dispatch)."""
    cutoff = _now() - dt.timedelta(seconds=older_than_s)
    for run_id in Run.objects.filter(status=Status.QUEUED.value, created_at__lt=cutoff).values_list("pk", flat=True):
        if not StepRun.objects.filter(run_id=run_id).exclude(task_id="").exists():
            run_advance(run_id=run_id)

