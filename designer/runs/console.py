"""Showing a run in a terminal: live step states while it runs, then a summary."""
from __future__ import annotations

import json
import sys
import time
from typing import NoReturn, Protocol, TextIO

from designer.engine.errors import GraphError
from designer.engine.events import Event, Status, StepLogEvent, StepMetricEvent, StepStatusEvent
from designer.engine.executor import RunResult

_SHOWN = {Status.RUNNING, Status.COMPLETED, Status.REUSED, Status.FAILED, Status.CANCELLED, Status.SKIPPED}



class Writable(Protocol):
    """Where a summary goes: a text stream, or a management command's stdout."""

    def write(self, text: str, /) -> object: ...

    def flush(self) -> object: ...

class LiveConsole:
    """Prints one line per step state change; with `metrics`, each metric as it is logged;
    when verbose, the steps' log lines."""

    def __init__(self, stream: TextIO, *, verbose: bool = False, metrics: bool = False) -> None:
        self.stream = stream
        self.verbose = verbose
        self.metrics = metrics
        self.width = 12

    def __call__(self, event: Event) -> None:
        if isinstance(event, StepStatusEvent) and event.status in _SHOWN:
            extra = ""
            if event.status is Status.REUSED:
                extra = "  (outputs reused from an earlier run)"
            elif event.duration_s is not None and event.status is not Status.SKIPPED:
                extra = f"  {event.duration_s:.2f}s"
            if event.error:
                extra += f"  {event.error.get('message', '')}"
            self._line(f"{event.node:<{self.width}} {event.status.value:<10}{extra}")
        elif isinstance(event, StepMetricEvent) and self.metrics and event.value is not None:
            self._line(f"{event.node:<{self.width}} {event.name} = {event.value:.6g}")
        elif isinstance(event, StepLogEvent) and self.verbose:
            for line in event.lines:
                self._line(f"{event.node:<{self.width}} | {line}")

    def _line(self, text: str) -> None:
        self.stream.write(f"{time.strftime('%H:%M:%S')}  {text}\n")
        self.stream.flush()


_FAILED_BECAUSE = {
    "module": "failed", "infrastructure": "failed (infrastructure error)",
    "time_limit": "was stopped at its time limit", "memory_limit": "was stopped at its memory limit",
    "user": "was cancelled",
}


def print_summary(result: RunResult, stream: Writable) -> None:
    width = max([len(n) for n in result.steps] + [4])
    stream.write(f"\nRun {result.run_id}: {result.status.value}\n")
    for node, step in result.steps.items():
        reused = " (reused)" if step.reused else ""
        stream.write(f"  {node:<{width}}  {step.status.value:<10} {step.duration_s:7.2f}s{reused}\n")
    for node, step in result.steps.items():
        if step.error:
            # A module's failure is the user's to fix; others are not, and say so.
            what = _FAILED_BECAUSE.get(step.error.get("origin", "module"), "failed")
            stream.write(f"\nnode {node!r} {what}: {step.error.get('message')}\n")
            if step.error.get("param"):
                stream.write(f"  (param {step.error['param']!r})\n")
            tail = [line for line in step.log_tail if line.strip()][-15:]
            if tail:
                stream.write("  last log lines:\n" + "".join(f"    {line}\n" for line in tail))
    metrics = {node: step.metrics for node, step in result.steps.items() if step.metrics}
    if metrics:
        stream.write("\nMetrics:\n")
        for node, values in metrics.items():
            for name, value in values.items():
                stream.write(f"  {node}.{name} = {value:.6g}\n")
    stream.flush()


def print_errors(errors: list[GraphError], stream: Writable) -> None:
    stream.write(f"The pipeline has {len(errors)} error{'s' if len(errors) != 1 else ''}:\n")
    for error in errors:
        stream.write(f"  - {error.describe()}  [{error.code}]\n")
    stream.flush()


def exit_invalid(errors: list[GraphError], *, as_json: bool, stdout: Writable, live: Writable) -> NoReturn:
    """End a run command whose pipeline cannot run: with --json its outcome on `stdout` (a
    failed run that never started), else the errors on `live`; exit code 1."""
    if as_json:
        stdout.write(json.dumps({
            "run_id": None, "status": "failed", "steps": {}, "metrics": {}, "errors": [e.to_json() for e in errors],
        }))
    else:
        print_errors(errors, live)
    sys.exit(1)
