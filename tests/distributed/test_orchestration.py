"""The orchestrator's guarantees, step by step in this process: the tasks go to a real
Redis broker that no worker reads, and this test plays the worker by calling the same
function a worker's task calls."""
from __future__ import annotations

import datetime as dt
from typing import Any

from designer.runs import orchestration, services
from designer.runs.models import Run, RunEvent, StepRun

DATA = "x,y\n" + "".join(f"{i},{2 * i}\n" for i in range(20))
NODES = {
    "data": {"module": "enter_data_manually", "params": {"data": DATA}},
    "pick": {"module": "select_columns", "inputs": {"dataset": "data.dataset"}, "params": {"columns": ["x"]}},
}


def submit(user: Any) -> Run:
    document = {"format": "atelier/pipeline@1", "name": "orchestration", "nodes": NODES}
    return services.run_submit(user=user, document=document)


def step(run: Run, node: str) -> StepRun:
    return StepRun.objects.get(run=run, node=node)


def test_only_ready_steps_are_dispatched_each_with_its_own_task(distributed: None, django_user_model: Any) -> None:
    run = submit(django_user_model.objects.create_user("ada"))

    run.refresh_from_db()
    assert run.status == "running"
    assert step(run, "data").task_id and step(run, "data").status == "queued"
    assert step(run, "pick").task_id == "", "waits for its input"


def test_a_duplicate_or_stale_task_never_runs_the_step_again(distributed: None, django_user_model: Any) -> None:
    run = submit(django_user_model.objects.create_user("ada"))
    task = step(run, "data").task_id

    orchestration.step_execute(run_id=str(run.pk), node="data", task_id="not-the-current-task", worker="w@x")
    assert step(run, "data").attempts == 0 and step(run, "data").status == "queued"

    orchestration.step_execute(run_id=str(run.pk), node="data", task_id=task, worker="w@x")
    first = step(run, "data")
    assert first.status == "completed" and first.attempts == 1 and first.placement["worker"] == "w@x"
    assert step(run, "pick").task_id, "its end dispatched what became ready"

    orchestration.step_execute(run_id=str(run.pk), node="data", task_id=task, worker="w@y")  # redelivered
    again = step(run, "data")
    assert (again.attempts, again.placement, again.outputs) == (first.attempts, first.placement, first.outputs)
    completions = RunEvent.objects.filter(run=run, type="step_status", payload__node="data", payload__status="completed")
    assert completions.count() == 1


def test_a_silent_worker_gets_one_retry_then_the_step_fails_and_the_run_ends(
    distributed: None, django_user_model: Any, settings: Any
) -> None:
    run = submit(django_user_model.objects.create_user("ada"))
    first_task = step(run, "data").task_id
    long_ago = dt.datetime.now(tz=dt.timezone.utc) - dt.timedelta(seconds=settings.DISPATCH["WORKER_LOST_AFTER_S"] + 1)
    # A worker took the step, then went silent.
    StepRun.objects.filter(run=run, node="data").update(attempts=1, status="running", heartbeat_at=long_ago)

    assert orchestration.steps_sweep_lost() == 1
    retried = step(run, "data")
    assert retried.status == "queued" and retried.task_id != first_task and retried.heartbeat_at is None
    assert orchestration.steps_sweep_lost() == 0, "a requeued step is not lost until a worker takes it"

    StepRun.objects.filter(run=run, node="data").update(attempts=2, status="running", heartbeat_at=long_ago)
    assert orchestration.steps_sweep_lost() == 1
    lost = step(run, "data")
    assert lost.status == "failed" and lost.error["code"] == "worker_lost"
    assert step(run, "pick").status == "skipped"
    run.refresh_from_db()
    assert run.status == "failed"


def test_cancel_before_any_worker_took_a_step_ends_the_run_at_once(distributed: None, django_user_model: Any) -> None:
    run = submit(django_user_model.objects.create_user("ada"))
    task = step(run, "data").task_id

    services.run_cancel(run=run)
    run.refresh_from_db()
    assert run.status == "cancelled"
    assert {s.status for s in run.steps.all()} == {"cancelled"}
    orchestration.step_execute(run_id=str(run.pk), node="data", task_id=task, worker="w@x")  # arrives late
    assert step(run, "data").attempts == 0


def test_a_step_no_worker_takes_is_explained_once_and_goes_on_waiting(
    distributed: None, django_user_model: Any, settings: Any
) -> None:
    run = submit(django_user_model.objects.create_user("ada"))
    assert orchestration.steps_note_unserved() == 0, "just sent: a worker may take it any moment"

    later = dt.datetime.now(tz=dt.timezone.utc) + dt.timedelta(seconds=settings.DISPATCH["UNSERVED_AFTER_S"] + 1)
    # No worker reads this broker: asked, none says it serves the `local` queue.
    assert orchestration.steps_note_unserved(now=later) == 1
    assert orchestration.steps_note_unserved(now=later) == 0, "told once per dispatch"
    lines = [line for event in RunEvent.objects.filter(run=run, type="step_log", payload__node="data")
             for line in event.payload["lines"]]
    assert lines == ["waiting: no worker takes steps for compute 'local'; the step starts when one does "
                     "(celery -A designer worker -Q local)"]
    assert step(run, "data").status == "queued", "it goes on waiting"
