"""The messages the realtime WebSockets send: the contract with the browser.

Tests check every message sent against these models (unknown fields are errors, so the
schema cannot drift silently), and designer/web/wire_types.py puts their JSON Schema into the
OpenAPI schema, which the frontend's types are generated from. Times are seconds since the
epoch, as in the engine's events.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from designer.engine.step_errors import Origin
from designer.runs.models import RunStatus, StepStatus, StepWaiting

Seq = Annotated[int, Field(ge=0)]
Timestamp = float


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Event(_Message):
    """Every event of a run carries its sequence number and when it was recorded."""

    seq: Annotated[int, Field(ge=1)]
    at: Timestamp


# -- /ws/runs/<run_id>/ --------------------------------------------------------------------


class StepErrorPayload(_Message):
    """Why a step failed or was stopped (designer.engine.step_errors.StepError.to_json)."""

    code: str
    message: str
    origin: Origin
    node: str | None = None
    param: str | None = None
    port: str | None = None
    details: dict[str, Any] = {}


class RunState(_Message):
    id: str
    status: RunStatus
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None


class StepState(_Message):
    status: StepStatus
    reused: bool
    started_at: Timestamp | None
    finished_at: Timestamp | None
    duration_s: float | None
    error: StepErrorPayload | None
    placement: dict[str, Any]
    # What a queued or preparing step waits for: its inputs, a free slot, a worker, the step
    # server to start, its environment to be built (null: nothing known, or not waiting).
    waiting: StepWaiting | None


class SnapshotMessage(_Message):
    """The first message of a fresh subscription: the run as of event `seq` (0: none yet)."""

    type: Literal["snapshot"]
    seq: Seq
    run: RunState
    steps: dict[str, StepState]


class RunStatusMessage(_Event):
    type: Literal["run_status"]
    status: RunStatus


class StepStatusMessage(_Event):
    type: Literal["step_status"]
    node: str
    status: StepStatus
    reused: bool
    started_at: Timestamp | None
    finished_at: Timestamp | None
    duration_s: float | None
    error: StepErrorPayload | None
    cache_key: str | None
    reused_from: str | None
    placement: dict[str, Any] | None
    waiting: StepWaiting | None


class StepLogMessage(_Event):
    """A batch of log lines of one step."""

    type: Literal["step_log"]
    node: str
    lines: list[str]


class StepProgressMessage(_Event):
    type: Literal["step_progress"]
    node: str
    fraction: Annotated[float, Field(ge=0, le=1)]
    message: str


class StepMetricMessage(_Event):
    type: Literal["step_metric"]
    node: str
    name: str
    value: float | None


RunMessage = Annotated[
    Union[SnapshotMessage, RunStatusMessage, StepStatusMessage, StepLogMessage, StepProgressMessage, StepMetricMessage],
    Field(discriminator="type"),
]
run_message = TypeAdapter(RunMessage)


# -- /ws/runs/ (the user's run list) -------------------------------------------------------


class UserRunStatusMessage(_Message):
    """One of the user's runs changed status; `seq` is that run's own sequence number."""

    type: Literal["run_status"]
    run_id: str
    status: RunStatus
    seq: Annotated[int, Field(ge=1)]
    at: Timestamp


user_run_message = TypeAdapter(UserRunStatusMessage)
