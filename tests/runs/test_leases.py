"""Who drives an embedded run, found out against the real database and real processes: runs
of processes that stopped are orphans, taken over once, resumed (what ended is reused) or
failed as interrupted; a process that lost its run can no longer write to it."""
from __future__ import annotations

import dataclasses
import datetime as dt
import os
import subprocess
import sys
from typing import Any

import pytest

from designer.engine.events import Status, StepStatusEvent
from designer.pipelines import validation
from designer.runs import dispatch, execution, leases, recording, services
from designer.runs.models import Run, RunEvent, RunSource, StepRun

DATA = "x,y\n" + "".join(f"{i},{2 * i}\n" for i in range(20))
NODES = {
    "data": {"module": "enter_data_manually", "params": {"data": DATA}},
    "pick": {"module": "select_columns", "inputs": {"dataset": "data.dataset"}, "params": {"columns": ["x"]}},
}


def ended_process() -> leases.ProcessId:
    """A process of this machine that has ended."""
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    return dataclasses.replace(leases.this_process(), pid=child.pid, nonce="ended")


def live_process() -> leases.ProcessId:
    """Another process of this machine, alive (the one that started this one)."""
    return dataclasses.replace(leases.this_process(), pid=os.getppid(), nonce="alive")


def ago(seconds: float) -> dt.datetime:
    return dt.datetime.now(tz=dt.timezone.utc) - dt.timedelta(seconds=seconds)


def record(user: Any, *, driver: str = "", seen_at: dt.datetime | None = None, source: str = RunSource.API,
           force_rerun: bool = False) -> Run:
    doc, plan = validation.pipeline_prepare(document={"format": "atelier/pipeline@1", "name": "leases", "nodes": NODES})
    run = services.run_create(doc=doc, plan=plan, source=source, user=user, force_rerun=force_rerun)
    Run.objects.filter(pk=run.pk).update(driver=driver, driver_seen_at=seen_at)
    run.refresh_from_db()
    return run


def test_a_process_id_says_whether_that_process_is_gone() -> None:
    here = leases.this_process()
    assert leases.ProcessId.parse(str(here)) == here
    assert leases.ProcessId.parse("unknown") is None
    assert ended_process().gone()
    assert not live_process().gone()
    assert dataclasses.replace(here, nonce="earlier").gone(), "this pid is this process now"
    assert not here.gone()
    assert not dataclasses.replace(here, host="elsewhere", pid=1).gone(), "cannot be told from here"


@pytest.mark.django_db
def test_orphans_are_the_unfinished_runs_whose_driver_stopped(user: Any, settings: Any) -> None:
    silent = settings.DISPATCH["WORKER_LOST_AFTER_S"] + 1
    elsewhere = dataclasses.replace(live_process(), host="elsewhere")
    orphaned = {
        record(user, driver=str(ended_process()), seen_at=ago(0)).pk,
        record(user, driver=str(live_process()), seen_at=ago(silent)).pk,
        record(user, driver=str(elsewhere), seen_at=ago(silent)).pk,
        record(user, driver="unknown").pk,  # left by a version that did not record drivers
    }
    record(user, driver=str(live_process()), seen_at=ago(0))
    record(user, driver=str(elsewhere), seen_at=ago(0))
    orphaned.add(record(user, driver=str(leases.this_process()), seen_at=ago(silent)).pk)  # no thread renews it
    record(user, driver=str(leases.this_process()), seen_at=ago(0))
    record(user)  # Celery workers' (or not yet advanced)
    Run.objects.filter(pk=record(user, driver=str(ended_process()), seen_at=ago(0)).pk).update(status="completed")

    assert {orphan.run_id for orphan in leases.orphans()} == orphaned


@pytest.mark.django_db
def test_a_run_is_taken_over_once_and_its_old_driver_can_no_longer_write(user: Any) -> None:
    old = str(ended_process())
    run = record(user, driver=old, seen_at=ago(0))
    [orphan] = leases.orphans()

    assert leases.take_over(orphan)
    assert not leases.take_over(orphan), "another process already took it"
    run.refresh_from_db()
    assert run.driver == str(leases.this_process())
    with pytest.raises(recording.RunNotDriven):
        recording.run_record_event(run_id=run.pk, event=StepStatusEvent("data", Status.RUNNING), driver=old)
    run.refresh_from_db()
    assert run.last_seq == 0 and not RunEvent.objects.filter(run=run).exists()


@pytest.mark.django_db
def test_runs_that_cannot_be_resumed_fail_as_interrupted(user: Any, settings: Any) -> None:
    by_command = record(user, driver=str(ended_process()), seen_at=ago(0), source=RunSource.CLI)
    assert dispatch.runs_recover() == 1
    settings.DISPATCH = {**settings.DISPATCH, "RESUME_RUNS": False}
    by_server = record(user, driver=str(ended_process()), seen_at=ago(0))
    assert dispatch.runs_recover() == 1

    for run, says in ((by_command, "run_pipeline"), (by_server, "ATELIER_RESUME_RUNS=false")):
        run.refresh_from_db()
        assert run.status == "failed"
        errors = [step.error for step in run.steps.all()]
        assert all(e["code"] == "interrupted" and e["origin"] == "infrastructure" and says in e["message"]
                   for e in errors), errors
    assert dispatch.runs_recover() == 0, "each is taken over once"


@pytest.mark.django_db(transaction=True)
def test_a_resumed_run_reuses_what_ended_and_runs_the_rest_again(user: Any, store_dirs: Any) -> None:
    earlier = record(user)
    execution.run_execute(run=earlier)  # the cache now holds both steps' outputs
    # A run that forces every step: its process stopped after `data` ended, mid-`pick`.
    run = record(user, driver=str(ended_process()), seen_at=ago(0), force_rerun=True)
    recording.run_record_event(run_id=run.pk, event=StepStatusEvent("data", Status.COMPLETED))
    recording.run_record_event(run_id=run.pk, event=StepStatusEvent("pick", Status.RUNNING))

    assert dispatch.runs_recover() == 1
    dispatch.dispatcher().join(timeout=120)

    run.refresh_from_db()
    steps = {s.node: s for s in run.steps.all()}
    assert run.status == "completed"
    assert steps["data"].status == "reused", "it had ended: forcing the run does not run it twice"
    assert steps["pick"].status == "completed", "forced, and it had not ended: it ran again"
    told = RunEvent.objects.filter(run=run, type="step_log", payload__node="pick")
    assert any("resumed the run" in line for event in told for line in event.payload["lines"])


@pytest.mark.django_db
def test_the_heartbeat_stops_runs_taken_over_or_cancelled_and_renews_the_others(user: Any) -> None:
    me = str(leases.this_process())
    kept = record(user, driver=me, seen_at=ago(60))
    lost = record(user, driver=str(live_process()), seen_at=ago(0))
    cancelled = record(user, driver=me, seen_at=ago(0))
    Run.objects.filter(pk=cancelled.pk).update(cancel_requested=True)
    stopped: list[Any] = []
    keeper = leases.Keeper(background=False)  # its beats are this test's renew() calls
    for run in (kept, lost, cancelled):
        keeper.hold(run.pk, lambda run_id=run.pk: stopped.append(run_id))

    keeper.renew()
    assert set(stopped) == {lost.pk, cancelled.pk}
    kept.refresh_from_db()
    assert kept.driver_seen_at is not None and kept.driver_seen_at > ago(5)


@pytest.mark.django_db
def test_cancel_asks_a_live_driver_and_takes_the_run_of_a_dead_one(user: Any) -> None:
    driven = record(user, driver=str(live_process()), seen_at=ago(0))
    assert leases.request_cancel(run_id=driven.pk), "its driver stops it"
    driven.refresh_from_db()
    assert driven.cancel_requested and driven.driver == str(live_process())

    orphaned = record(user, driver=str(ended_process()), seen_at=ago(0))
    assert not leases.request_cancel(run_id=orphaned.pk), "nothing executes it: the caller ends it"
    orphaned.refresh_from_db()
    assert orphaned.driver == str(leases.this_process())


@pytest.mark.django_db
def test_a_run_is_recorded_with_its_driver(api: Any) -> None:
    document = {"format": "atelier/pipeline@1", "name": "leases", "nodes": NODES}
    response = api.post("/api/runs/", {"pipeline": document}, format="json")
    assert response.status_code == 201
    run = Run.objects.get(pk=response.json()["id"])
    assert run.driver == str(leases.this_process()) and run.driver_seen_at is not None
