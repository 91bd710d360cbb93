"""Why a step failed or was stopped, and whose failure it is: the one place step errors are made.

The `origin` tells the person looking at a failed node what to do: fix the pipeline or
its data (`module`), look at the server (`infrastructure`), give the step more time or
memory or make it need less (`time_limit`, `memory_limit`), or nothing (`user`: they
cancelled it). Errors are stored and sent as JSON (`to_json`).
"""
from __future__ import annotations

import dataclasses
import enum
import signal
from dataclasses import dataclass, field
from typing import Any

from modules.sdk.contract import StepErrorReport


class Origin(str, enum.Enum):
    MODULE = "module"  # bad data or params, a user's script raising: the user can fix it
    INFRASTRUCTURE = "infrastructure"  # a crashed process, a compute that failed, a module's bug
    TIME_LIMIT = "time_limit"  # its timeout, or its CPU time
    MEMORY_LIMIT = "memory_limit"
    USER = "user"  # cancelled


# Codes a step reports that are not its module's doing.
_ORIGIN_OF_CODE = {
    "internal_error": Origin.INFRASTRUCTURE,
    "memory_limit_exceeded": Origin.MEMORY_LIMIT,
    "out_of_memory": Origin.MEMORY_LIMIT,
}


@dataclass(frozen=True)
class StepError:
    code: str
    message: str
    origin: Origin
    node: str | None = None
    param: str | None = None
    port: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def at(self, node: str) -> "StepError":
        return dataclasses.replace(self, node=node)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message, "origin": self.origin.value}
        for name in ("node", "param", "port"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.details:
            out["details"] = self.details
        return out

    # -- the errors, by what happened ------------------------------------------------------

    @classmethod
    def reported(cls, report: StepErrorReport) -> "StepError":
        """What the step said of its own failure (its origin is the host's to decide)."""
        return cls(
            report.code, report.message, _ORIGIN_OF_CODE.get(report.code, Origin.MODULE),
            param=report.param, port=report.port, details=dict(report.details),
        )

    @classmethod
    def cancelled(cls) -> "StepError":
        return cls("cancelled", "cancelled by the user", Origin.USER)

    @classmethod
    def timeout(cls, limit_s: float) -> "StepError":
        return cls("timeout", f"the step ran longer than its {limit_s:g} s timeout and was stopped", Origin.TIME_LIMIT)

    @classmethod
    def crashed(cls, exit_code: int | None) -> "StepError":
        """The step's process ended without writing its result."""
        if exit_code == -signal.SIGXCPU:
            return cls("cpu_time_limit", "the step used more CPU time than its limit and was stopped", Origin.TIME_LIMIT)
        if exit_code is not None and exit_code < 0:
            name = signal.Signals(-exit_code).name
            hint = " (it may have run out of memory)" if -exit_code == signal.SIGKILL else ""
            message = f"the step process was killed by {name}{hint}"
        else:
            message = f"the step process exited with code {exit_code} without writing its result"
        return cls("step_crashed", message, Origin.INFRASTRUCTURE)

    @classmethod
    def memory_limit(cls, limit_mb: int) -> "StepError":
        return cls(
            "memory_limit_exceeded",
            f"memory limit exceeded: the step needed more than its {limit_mb} MB and was stopped", Origin.MEMORY_LIMIT,
        )

    @classmethod
    def compute_failed(cls, compute: str, exc: BaseException) -> "StepError":
        return cls("compute_error", f"could not start the step on compute {compute!r}: {exc}", Origin.INFRASTRUCTURE)

    @classmethod
    def fetch_failed(cls, code: str, message: str) -> "StepError":
        """A URL the step reads could not be downloaded: the user's URL, theirs to fix."""
        return cls(code, message, Origin.MODULE)

    @classmethod
    def result_refused(cls, reason: str) -> "StepError":
        """What the step left is refused (a user's script can forge it): the step's error."""
        return cls("result_refused", f"the step's result was refused: {reason}", Origin.MODULE)

    @classmethod
    def interrupted(cls, message: str) -> "StepError":
        return cls("interrupted", message, Origin.INFRASTRUCTURE)

    @classmethod
    def worker_lost(cls, attempts: int, max_attempts: float) -> "StepError":
        return cls(
            "worker_lost",
            f"the worker running this step stopped responding (attempt {attempts} of {max_attempts:g}); "
            "the step was not retried again",
            Origin.INFRASTRUCTURE,
        )
