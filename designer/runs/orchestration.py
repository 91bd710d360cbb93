"""Distributed runs: every step is a Celery task on its compute target's queue.

Orchestration is event-driven. `run_advance` looks at a run's steps under a lock on the
run's row, reuses what the cache already holds, skips what a failure blocks, dispatches
what became ready and ends the run when nothing is left. It runs when the run is
submitted and whenever one of its steps ends; nothing polls the database for it.

Dispatching a step never depends on the broker being there: the step's task goes into an
outbox (`OutboxTask`) in the transaction that records the dispatch, and is sent after that
commits (`outbox_send`). The broker being away only delays it: beat's sweep sends again
what was never sent, and what was sent but never started (a broker restarted empty lost
it), waiting longer after each send (`outbox_resend`).

A worker runs a step with its own executor (`step_execute`) and says it is alive every
few seconds. A step whose worker went silent (killed, machine gone) is found by the sweep
beat schedules: it is dispatched once more as a new task, or fails as "worker lost" when
it already had its second chance. Every dispatch has its own task id, a worker starts a
task only by taking its row out of the outbox, and it only finishes the step whose current
task id is its own: a duplicate delivery or a late task never runs a step twice or writes
its outputs over another attempt's.
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
from django.db.models import F, Q

from designer import engine_settings
from designer.engine.compiler import Plan, PlanStep
from designer.engine.events import (
    ACTIVE, Event, RunStatusEvent, Status, StepLogEvent, StepStatusEvent, Waiting,
)
from designer.engine.executor import Executor, StepResult, cache_decision, reuse_into, step_inputs
from designer.engine.scheduler import decide
from designer.engine.step_errors import StepError

from . import leases
from .models import OutboxTask, Run, StepRun
from .execution import executor_build
from .recording import run_record_event

logger = logging.getLogger(__name__)

# The Celery task that runs one step (designer.runs.tasks.step_execute).
STEP_TASK = "atelier.step_execute"

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


# One more try on a connection the broker closed (it restarted); beyond that the outbox waits
# for the sweep rather than the caller (a request, a worker) for the broker.
_PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def outbox_send(tasks: list[OutboxTask]) -> int:
    """Send outbox tasks to the broker, each marked sent once the broker took it. Stops at
    the first it does not take (it is away: beat's sweep sends them later). Returns how
    many were sent."""
    from designer.celery import app

    sent = 0
    for task in tasks:
        try:
            # By name: the task module builds on this one, not the other way round.
            app.send_task(
                STEP_TASK, kwargs={"run_id": str(task.step.run_id), "node": task.step.node, "task_id": task.task_id},
                task_id=task.task_id, queue=task.queue, retry_policy=_PUBLISH_RETRY,
            )
        except Exception as exc:  # whatever kept it from the broker, the outbox keeps it for later
            logger.warning("the broker did not take task %s (%s); it is sent again later", task.task_id, exc)
            break
        OutboxTask.objects.filter(pk=task.pk).update(sent_at=_now(), sends=F("sends") + 1)
        sent += 1
    return sent


def _dispatch(row: StepRun, step: PlanStep) -> None:
    """Give the step a new task: recorded in the outbox with the step's state (queued, for
    a worker), and sent once that is committed."""
    _step_event(row, Status.QUEUED, waiting=Waiting.WORKER)
    row.task_id = uuid.uuid4().hex
    row.heartbeat_at = None
    row.dispatched_at, row.unserved_noted = _now(), False
    row.save(update_fields=["task_id", "heartbeat_at", "cache_key", "dispatched_at", "unserved_noted"])
    task = OutboxTask.objects.create(task_id=row.task_id, step=row, queue=step.compute)
    transaction.on_commit(lambda: outbox_send([task]))


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
        store = engine_settings.artifact_store()
        while True:  # a reused step can make the next one ready at once
            decision = decide(plan, {node: _scheduled_state(row) for node, row in rows.items()},
                              cancelled=run.cancel_requested)
            for node, ended in decision.ended.items():
                row = rows[node]
                error = StepError.cancelled().at(node).to_json() if ended is Status.CANCELLED else None
                _step_event(row, ended, **({"error": error} if error else {}))
            reused = False
            for node in decision.ready:
                row, step = rows[node], plan.step(node)
                inputs = step_inputs(step, {n: rows[n].outputs for n in step.upstream})
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
                reused = True
            if not reused:
                break
        if decision.final is not None:
            run_record_event(run_id=run.pk, event=RunStatusEvent(decision.final))


def _scheduled_state(row: StepRun) -> Status:
    """A step's state as the scheduler sees it: one handed to a worker has started, as far as
    scheduling goes, even while its task waits in a queue."""
    status = Status(row.status)
    return Status.PREPARING if status is Status.QUEUED and row.task_id else status


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
            _step_event(row, Status.CANCELLED, error=StepError.cancelled().at(row.node).to_json())
        if run.steps.filter(status__in=[s.value for s in ACTIVE]).exists():
            key = str(run.pk)
            transaction.on_commit(lambda: _broadcast_cancel(key))
    run_advance(run_id=run_id)


def _broadcast_cancel(run_id: str) -> None:
    """Tell the workers now. They also find out at their next heartbeat, which is how they
    hear of it when the broker is away: a cancel never waits for the broker."""
    from designer.celery import app

    try:
        with app.connection_for_write() as connection:
            # Broadcasting retries for as long as the broker is away; this asks it once.
            connection.ensure_connection(max_retries=1, interval_start=0)
            app.control.broadcast("atelier_cancel_run", arguments={"run_id": run_id}, connection=connection)
    except Exception as exc:  # the heartbeats carry it instead
        logger.warning("run %s: cancel not broadcast (%s); workers see it at their next heartbeat", run_id, exc)


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
    """Take the step for this attempt, or None when it is not ours to run (a stale task, a
    duplicate of one already started, a step already ended, a run cancelled)."""
    with transaction.atomic():
        row = _locked_step(run_id, node)
        if row is None or row.task_id != task_id or Status(row.status).terminal:
            return None
        if not OutboxTask.objects.filter(task_id=task_id).delete()[0]:
            return None  # this task was started already: a duplicate delivery
        if row.run.cancel_requested:
            _step_event(row, Status.CANCELLED, error=StepError.cancelled().at(node).to_json())
            transaction.on_commit(lambda: run_advance(run_id=run_id))
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
    another worker meanwhile (this one was taken for lost) or its run is to be cancelled
    (the broadcast saying so may not have come: the broker was away)."""
    try:
        while not stop.wait(settings.DISPATCH["HEARTBEAT_S"]):
            ours = StepRun.objects.filter(run_id=run_id, node=node, task_id=task_id, run__cancel_requested=False)
            if not ours.update(heartbeat_at=_now()):
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

    executor = executor_build(record, user=claim.row.run.created_by, placement={"worker": worker})
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
    _step_event(row, Status.FAILED, error=StepError.worker_lost(row.attempts, settings.DISPATCH["MAX_ATTEMPTS"]).at(
        row.node).to_json())
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
                _step_event(row, Status.CANCELLED, error=StepError.cancelled().at(node).to_json())
                transaction.on_commit(partial(run_advance, run_id=run_id))
            elif row.attempts < settings.DISPATCH["MAX_ATTEMPTS"]:
                run_record_event(run_id=run_id, event=StepLogEvent(node, [
                    "the worker running this step stopped responding; the step runs again on another worker",
                ]))
                plan = Plan.from_json(row.run.plan)
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


def outbox_resend(*, now: dt.datetime | None = None) -> int:
    """Send again the tasks the broker may not hold: those never sent (it was away when their
    step was dispatched) and those sent a while ago that no worker started (a broker that
    restarted empty lost them), waiting twice as long after each send: a task that only
    waits behind busy workers gets a few duplicates, which workers drop. Forgets the tasks
    of steps that moved on. Returns how many it sent."""
    now = now or _now()
    OutboxTask.objects.filter(~Q(step__status=Status.QUEUED.value) | ~Q(step__task_id=F("task_id"))).delete()
    after = settings.DISPATCH["RESEND_AFTER_S"]
    # A task recorded a moment ago is being sent by its relay.
    unsent = Q(sent_at=None, created_at__lt=now - dt.timedelta(seconds=settings.DISPATCH["SWEEP_S"]))
    waited = Q(sent_at__lt=now - dt.timedelta(seconds=after))
    due = [
        task for task in OutboxTask.objects.filter(unsent | waited).select_related("step")
        if task.sent_at is None or task.sent_at < now - dt.timedelta(seconds=after * 2 ** min(task.sends - 1, 6))
    ]
    return outbox_send(due)


def run_restart(*, run_id: Any) -> None:
    """Give the workers a run that an embedded process drove, taken over by this process after
    that one stopped: every step is looked at again, as for a run just submitted (what ended
    well is found in the cache and reused; the rest is dispatched)."""
    with transaction.atomic():
        run = Run.objects.select_for_update().filter(pk=run_id, driver=str(leases.this_process())).first()
        if run is None or Status(run.status).terminal:
            return
        run.driver = ""
        run.save(update_fields=["driver"])
        for row in run.steps.exclude(status=Status.QUEUED.value):
            _step_event(row, Status.QUEUED)
        run.steps.update(task_id="", attempts=0, heartbeat_at=None, dispatched_at=None)
    run_advance(run_id=run_id)


def runs_sweep_stalled(*, older_than_s: float = 60.0) -> None:
    """Move on runs recorded but never advanced (the process that submitted them died
    between its commit and its first dispatch)."""
    cutoff = _now() - dt.timedelta(seconds=older_than_s)
    for run_id in Run.objects.filter(status=Status.QUEUED.value, created_at__lt=cutoff).values_list("pk", flat=True):
        if not StepRun.objects.filter(run_id=run_id).exclude(task_id="").exists():
            run_advance(run_id=run_id)

