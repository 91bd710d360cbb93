"""Run and step state, written in one place: every change is a RunEvent with the run's next
sequence number, and is sent to the run's subscribers once it is committed."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.db import transaction
from django.db.models import F

from designer.engine.events import Event, RunStatusEvent, Status, StepStatusEvent
from designer.engine.executor import StepResult
from designer.realtime import publish

from .models import Run, RunEvent, StepRun


def _when(timestamp: float | None) -> dt.datetime | None:
    return None if timestamp is None else dt.datetime.fromtimestamp(timestamp, tz=dt.timezone.utc)


class RunNotDriven(Exception):
    """The run is no longer this process's to execute: another one took it over."""


@transaction.atomic
def run_record_event(*, run_id: Any, event: Event, driver: str | None = None) -> RunEvent:
    """The one place run and step state changes are written, each with its sequence number.
    With `driver`, only while that process drives the run (else RunNotDriven, nothing written)."""
    runs = Run.objects.filter(pk=run_id)
    if driver is not None:
        runs = runs.filter(driver=driver)
    if not runs.update(last_seq=F("last_seq") + 1) and driver is not None:
        raise RunNotDriven(run_id)
    run = Run.objects.only("last_seq", "started_at", "created_by_id").get(pk=run_id)
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
            waiting=event.waiting.value if event.waiting is not None else "",
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
    transaction.on_commit(
        lambda: publish.publish_run_event(run_id=run_id, owner_id=run.created_by_id, message=event_message(recorded)),
        robust=True,
    )
    return recorded


@transaction.atomic
def step_record_results(*, run_id: Any, step: StepResult, driver: str) -> None:
    """What a step made (outputs, metrics, images, warnings), recorded as it ends and before
    its end is announced: the run panel shows a completed step's outputs at once, not when
    the whole run ends. Only while `driver` drives the run."""
    if not Run.objects.select_for_update().filter(pk=run_id, driver=driver).exists():
        return  # taken over meanwhile: the new driver records its own results
    StepRun.objects.filter(run_id=run_id, node=step.node).update(
        outputs=step.outputs, metrics=step.metrics, visuals=step.visuals, images=step.images or "",
        warnings=step.warnings,
    )


def event_message(event: RunEvent) -> dict[str, Any]:
    """What a run's subscribers receive for one event: its payload (which names its `type`),
    its sequence number, and when it was recorded (seconds since the epoch, like step timings).

    Live and replayed events are built here alike, so a client cannot tell them apart.
    """
    # A just-created event still holds the engine's enums; this is the payload exactly as
    # the database stores it and a replay reads it back.
    payload: dict[str, Any] = json.loads(json.dumps(event.payload))
    return {**payload, "seq": event.seq, "at": event.created_at.timestamp()}
