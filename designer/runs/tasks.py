"""Celery tasks of distributed runs (thin: the work is in `orchestration`)."""
from __future__ import annotations

from typing import Any

from celery import shared_task
from celery.worker.control import control_command

from . import dispatch, orchestration


@shared_task(name=orchestration.STEP_TASK, bind=True)
def step_execute(self: Any, *, run_id: str, node: str, task_id: str) -> None:
    orchestration.step_execute(run_id=run_id, node=node, task_id=task_id, worker=self.request.hostname or "")


@shared_task(name="atelier.steps_sweep_lost")
def steps_sweep_lost() -> None:
    orchestration.outbox_resend()
    orchestration.steps_sweep_lost()
    orchestration.runs_sweep_stalled()
    dispatch.runs_recover()
    orchestration.steps_note_unserved()


@control_command(args=[("run_id", str)], signature="<run_id>")
def atelier_cancel_run(state: Any, run_id: str) -> dict[str, Any]:
    """Broadcast to every worker: stop the steps of run `run_id` this worker runs."""
    return {"ok": f"stopped {orchestration.live_steps.cancel(run_id)} step(s)"}
