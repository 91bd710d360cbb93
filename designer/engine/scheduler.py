"""The scheduling rule of a run, written once: which steps may start, which can never run,
and how the run ends. Pure: it looks at step states only, so the local executor and the
distributed orchestration (which keeps the states in the database) decide alike, and it is
tested without either (the role ComfyUI's ExecutionList plays).

A run halts when it is cancelled, or when a step failed and the pipeline does not go on
after failures. A halt ends every step that has not started: `cancelled` when the user
cancelled the run, `skipped` when a failure halted it. Steps already running are the
caller's to stop (on cancel) or to let finish (on a failure). A step whose upstream failed,
was skipped or cancelled is `skipped`; a step whose upstream all succeeded is ready.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from .compiler import Plan
from .events import SUCCEEDED, Status

# An upstream step in one of these states means a step can never run.
BLOCKING = frozenset({Status.FAILED, Status.SKIPPED, Status.CANCELLED})


@dataclass(frozen=True)
class Decision:
    ready: tuple[str, ...] = ()  # may start now (or be reused), in plan order
    ended: Mapping[str, Status] = field(default_factory=dict)  # not started steps that end now, and how
    final: Status | None = None  # the run's end, once every step has ended


def decide(plan: Plan, states: Mapping[str, Status], *, cancelled: bool = False) -> Decision:
    """What to do next, given every step's state (`queued`: not started yet)."""
    now = dict(states)
    halted = cancelled or (
        not plan.continue_on_step_failure and any(status is Status.FAILED for status in now.values())
    )
    ready: list[str] = []
    ended: dict[str, Status] = {}
    for step in plan.steps:  # in topological order: an ending propagates in one pass
        if now[step.node] is not Status.QUEUED:
            continue
        upstream = [now[node] for node in step.upstream]
        if halted:
            ended[step.node] = now[step.node] = Status.CANCELLED if cancelled else Status.SKIPPED
        elif any(status in BLOCKING for status in upstream):
            ended[step.node] = now[step.node] = Status.SKIPPED
        elif all(status in SUCCEEDED for status in upstream):
            ready.append(step.node)
    return Decision(ready=tuple(ready), ended=ended, final=final_status(now, cancelled=cancelled))


def final_status(states: Mapping[str, Status], *, cancelled: bool) -> Status | None:
    """The run's end once every step has ended (None before)."""
    if not all(status.terminal for status in states.values()):
        return None
    if cancelled:
        return Status.CANCELLED
    return Status.COMPLETED if all(status in SUCCEEDED for status in states.values()) else Status.FAILED
