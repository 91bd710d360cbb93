"""The engine's event vocabulary: what the executor reports while a run goes on.

The CLI prints these, the server stores them and pushes them over WebSockets; the same
names are used end to end.
"""
from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any


class Status(str, enum.Enum):
    QUEUED = "queued"
    PREPARING = "preparing"
    RUNNING = "running"
    COMPLETED = "completed"
    REUSED = "reused"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


ACTIVE = frozenset({Status.QUEUED, Status.PREPARING, Status.RUNNING})
TERMINAL = frozenset({Status.COMPLETED, Status.REUSED, Status.FAILED, Status.CANCELLED, Status.SKIPPED})
SUCCEEDED = frozenset({Status.COMPLETED, Status.REUSED})


class Waiting(str, enum.Enum):
    """What a queued or preparing step waits for, so that its subscribers can be told."""

    INPUTS = "inputs"  # the steps it reads from have not ended
    SLOT = "slot"  # its compute target runs as many steps as it may (others are running)
    WORKER = "worker"  # dispatched to its compute target's queue, not yet taken by a worker
    STEP_SERVER = "step_server"  # the process that runs the steps is starting
    ENVIRONMENT = "environment"  # its environment's image is being built


@dataclass
class Event:
    type: str = field(init=False)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RunStatusEvent(Event):
    status: Status
    type: str = field(init=False, default="run_status")


@dataclass
class StepStatusEvent(Event):
    node: str
    status: Status
    reused: bool = False
    started_at: float | None = None
    finished_at: float | None = None
    duration_s: float | None = None
    error: dict[str, Any] | None = None
    cache_key: str | None = None
    reused_from: str | None = None
    # Where the step ran, as its compute backend tells it (worker, image, container…).
    placement: dict[str, Any] | None = None
    # What a queued or preparing step waits for (None: nothing known, or it is not waiting).
    waiting: Waiting | None = None
    type: str = field(init=False, default="step_status")


@dataclass
class StepLogEvent(Event):
    node: str
    lines: list[str]
    type: str = field(init=False, default="step_log")


@dataclass
class StepProgressEvent(Event):
    node: str
    fraction: float
    message: str = ""
    type: str = field(init=False, default="step_progress")


@dataclass
class StepMetricEvent(Event):
    node: str
    name: str
    value: float | None
    type: str = field(init=False, default="step_metric")
