"""The executor: runs a plan's steps on their compute targets, in dependency order.

Failed steps carry an error whose `origin` says whose failure it is (see step_errors.py):
the module's (bad data or params, a user's script: the user can fix it), the
infrastructure's, a time or memory limit, or the user's (cancel).

One thread drives everything: it starts ready steps up to each target's capacity, reuses
cached outputs, reads the steps' output streams (log lines and `::atelier::` events),
enforces timeouts, stores outputs in the artifact store, and reports every change through
`on_event`. Ctrl-C (KeyboardInterrupt) or `cancel()` stops the running steps and records
them as cancelled.
"""
from __future__ import annotations

import json
import select
import signal
import socket
import threading
import time
import uuid
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from pydantic import ValidationError

from modules.sdk.context import EVENT_PREFIX
from modules.sdk.contract import MetricLine, ProgressLine, ResultManifest, StepRequest, step_line
from modules.sdk.runner import FETCHED_FILE, FETCHED_PREFIX

from .artifact_store import ArtifactStore
from .backends import ComputeBackend, StepHandle, reporting_waits
from .cache_keys import cache_key
from .compiler import Plan, PlanStep
from .dataset_catalog import DatasetCatalog, ExportRefused
from .events import (
    Event, RunStatusEvent, Status, StepLogEvent, StepMetricEvent, StepProgressEvent,
    StepStatusEvent, Waiting,
)
from .scheduler import Decision, decide, final_status
from .url_fetch import FetchResult, UrlFetchError, url_fetch
from .step_errors import StepError
from .step_results import IMAGES, ResultRefused, check_output_folder, check_outputs, export_folder, read_manifest

LOG_TAIL_LINES = 200
# What the host downloads for a step at most, unless the deployment says otherwise.
DEFAULT_FETCH_BYTES = 512 * 1024 * 1024
Fetcher = Callable[[str, Path], FetchResult]
# What the host takes of a step's printed output: a line at most, and in all.
MAX_LINE_BYTES = 64 * 1024
MAX_LOG_BYTES = 32 * 1024 * 1024

@dataclass
class StepResult:
    node: str
    status: Status = Status.QUEUED
    reused: bool = False
    reused_from: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    error: dict[str, Any] | None = None
    cache_key: str | None = None
    placement: dict[str, Any] | None = None
    waiting: Waiting | None = None
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    visuals: dict[str, Any] = field(default_factory=dict)
    images: str | None = None
    warnings: list[str] = field(default_factory=list)
    log_tail: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_TAIL_LINES))

    @property
    def duration_s(self) -> float:
        if self.started_at is None or self.finished_at is None:
            return 0.0
        return round(self.finished_at - self.started_at, 3)


@dataclass
class RunResult:
    run_id: str
    status: Status
    steps: dict[str, StepResult]

    def summary(self) -> dict[str, Any]:
        """The run as `run_pipeline --json` prints it."""
        steps: dict[str, Any] = {}
        for node, step in self.steps.items():
            entry: dict[str, Any] = {"status": step.status.value, "reused": step.reused, "duration_s": step.duration_s}
            if step.error:
                entry["error"] = step.error
            steps[node] = entry
        metrics = {node: dict(step.metrics) for node, step in self.steps.items() if step.metrics}
        return {"run_id": self.run_id, "status": self.status.value, "steps": steps, "metrics": metrics}


def reuse_into(result: StepResult, entry: Mapping[str, Any]) -> None:
    """Fill `result` from a cache entry it reuses (its status is left to the caller)."""
    result.reused = True
    result.outputs = entry["outputs"]
    result.images = entry.get("images")
    result.metrics = entry.get("metrics") or {}
    result.visuals = entry.get("visuals") or {}
    result.warnings = entry.get("warnings") or []
    result.reused_from = (entry.get("produced_by") or {}).get("run_id")
    result.started_at = time.time()


def _signal_quietly(end: socket.socket, _future: Any) -> None:
    try:
        end.send(b"!")
    except OSError:  # the run is over and closed it; nobody waits any more
        pass


def _drain(end: socket.socket) -> None:
    try:
        while end.recv(4096):
            pass
    except BlockingIOError:
        pass


class _Cancelled(Exception):
    pass


class _Slots:
    """Steps running on each compute backend, counted across every executor of this process:
    runs going on at once share a target's capacity instead of each taking all of it."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._used: dict[int, int] = {}

    def take(self, backend: ComputeBackend) -> bool:
        with self._changed:
            used = self._used.get(id(backend), 0)
            if used >= backend.capacity:
                return False
            self._used[id(backend)] = used + 1
            return True

    def give(self, backend: ComputeBackend) -> None:
        with self._changed:
            self._used[id(backend)] -= 1
            self._changed.notify_all()

    def wait(self, timeout: float) -> None:
        """Until a slot is given back somewhere (or `timeout`)."""
        with self._changed:
            self._changed.wait(timeout)


_slots = _Slots()


def cache_decision(
    store: ArtifactStore, plan: Plan, step: PlanStep, inputs: Mapping[str, str], *, force_rerun: bool,
    forced: Iterable[str] = (),
) -> tuple[str, dict[str, Any] | None]:
    """The step's cache key, and the cached outputs it may reuse (None: it must run)."""
    key = cache_key(step.signature, inputs)
    force = force_rerun or plan.force_rerun or step.force_rerun or step.node in forced or not step.deterministic
    return key, None if force else store.lookup(key)


def step_inputs(step: PlanStep, outputs: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """The artifacts a step reads: those bound to it in the plan, and its upstream steps'
    `outputs` (node -> port -> output)."""
    return {
        **step.bound,
        **{port: outputs[src][src_port]["artifact"] for port, (src, src_port) in step.inputs.items()},
    }


@dataclass
class _Running:
    step: PlanStep
    run_id: str
    handle: StepHandle
    step_dir: Path
    deadline: float
    partial: bytes = b""
    logged: int = 0  # bytes of log forwarded so far


@dataclass
class _Starting:
    """A step its backend is still starting, in another thread."""

    step: PlanStep
    run_id: str
    step_dir: Path
    future: Future[StepHandle]


class Executor:
    def __init__(
        self,
        *,
        store: ArtifactStore,
        backends: Mapping[str, ComputeBackend],
        resources: Mapping[str, Any] | None = None,
        datasets: DatasetCatalog | None = None,
        on_event: Callable[[Event], None] | None = None,
        on_step_end: Callable[[StepResult], None] | None = None,
        default_timeout: float = 3600.0,
        placement: Mapping[str, Any] | None = None,
        trusted: bool = True,
        fetch: Fetcher | None = None,
    ) -> None:
        """`trusted`: the run's owner may run their code where no sandbox confines it (staff,
        or the operator at the command line); a backend without a sandbox refuses the others'.
        `on_step_end` gets each step's result as the step ends, before its end is announced,
        so that whoever hears "completed" finds its outputs recorded."""
        self.store = store
        self.backends = backends
        self.resources = dict(resources or {})
        self.datasets = datasets
        self.on_event = on_event if on_event is not None else (lambda event: None)
        self.on_step_end = on_step_end if on_step_end is not None else (lambda result: None)
        self.default_timeout = default_timeout
        # Where this executor runs (e.g. which worker), added to what each backend reports.
        self.placement = dict(placement or {})
        self.trusted = trusted
        self.fetch: Fetcher = fetch or partial(url_fetch, max_bytes=DEFAULT_FETCH_BYTES)
        self._cancel = threading.Event()
        self._starting: dict[str, _Starting] = {}
        self._starter: ThreadPoolExecutor | None = None
        # A start that ends writes a byte here, so that waiting on the steps' output hears it.
        self._started_signal: tuple[socket.socket, socket.socket] | None = None

    def cancel(self) -> None:
        """Ask a run in progress (in another thread) to stop."""
        self._cancel.set()

    def run(
        self,
        plan: Plan,
        *,
        run_id: str | None = None,
        force_rerun: bool = False,
        force_nodes: Iterable[str] = (),
    ) -> RunResult:
        """Run the plan."""
        run_id = run_id or uuid.uuid4().hex
        forced = set(force_nodes)
        results = {s.node: StepResult(s.node) for s in plan.steps}
        running: dict[str, _Running] = {}
        self.on_event(RunStatusEvent(Status.RUNNING))
        for step in plan.steps:
            results[step.node].waiting = Waiting.INPUTS if step.upstream else None
            self._emit_step(results[step.node])
        cancelled = False
        # SIGTERM (e.g. from a process manager) stops a run as cleanly as Ctrl-C does.
        previous = self._install_sigterm()
        try:
            while not all(r.status.terminal for r in results.values()):
                if self._cancel.is_set():
                    raise _Cancelled
                crowded = self._start_ready(plan, running, results, run_id, force_rerun, forced)
                if running or self._starting:
                    self._wait(running, results)
                elif crowded:
                    _slots.wait(0.5)  # other runs of this process hold the capacity
        except (KeyboardInterrupt, _Cancelled):
            cancelled = True
            self._stop(running, results)
            self._end_unstarted(plan, results, cancelled=True)
        finally:
            self._restore_sigterm(previous)
            self._close_starter()
        status = final_status({n: r.status for n, r in results.items()}, cancelled=cancelled)
        assert status is not None  # every step has ended
        result = RunResult(run_id=run_id, status=status, steps=results)
        self.on_event(RunStatusEvent(status))
        return result

    def run_step(self, step: PlanStep, *, inputs: Mapping[str, str], run_id: str, cache_key: str) -> StepResult:
        """Run one step whose input artifacts are known and that must run (not reused): the
        worker's side of a distributed run, whose orchestrator decides what runs. Reports its
        events as run() does; cancel() or SIGTERM stop it."""
        result = StepResult(step.node, cache_key=cache_key)
        results = {step.node: result}
        running: dict[str, _Running] = {}
        backend = self.backends[step.compute]
        previous = self._install_sigterm()
        try:
            while not _slots.take(backend):
                self._waits_for(result, Waiting.SLOT)
                if self._cancel.is_set():
                    raise _Cancelled
                _slots.wait(0.5)
            if not self._start(step, inputs, run_id, result, running):
                _slots.give(backend)
            else:
                while running or self._starting:
                    if self._cancel.is_set():
                        raise _Cancelled
                    self._wait(running, results)
        except (KeyboardInterrupt, _Cancelled):
            self._stop(running, results)
            if not result.status.terminal:  # cancelled while it waited for capacity
                self._finish(result, Status.CANCELLED, error=StepError.cancelled())
        finally:
            self._restore_sigterm(previous)
            self._close_starter()
        return result

    def _stop(self, running: dict[str, _Running], results: dict[str, StepResult]) -> None:
        for node, starting in list(self._starting.items()):
            # Its backend may go on starting it for a while: what it started then is stopped.
            starting.future.add_done_callback(partial(self._abandon, step_dir=starting.step_dir))
            del self._starting[node]
            _slots.give(self.backends[starting.step.compute])
            self._finish(results[node], Status.CANCELLED, error=StepError.cancelled())
        for node, item in list(running.items()):
            item.handle.kill()
            item.handle.close()
            self.store.discard(item.step_dir)
            self._finish(results[node], Status.CANCELLED, error=StepError.cancelled())
            self._release(running, node)

    def _abandon(self, future: Future[StepHandle], step_dir: Path) -> None:
        if not future.cancelled() and future.exception() is None:
            handle = future.result()
            handle.kill()
            handle.close()
        self.store.discard(step_dir)

    def _close_starter(self) -> None:
        if self._starter is not None:
            self._starter.shutdown(wait=False)  # an abandoned start ends on its own
            self._starter = None
        if self._started_signal is not None:
            for end in self._started_signal:
                end.close()  # a start ending later finds it closed (a socket, not a bare fd to reuse)
            self._started_signal = None

    def _release(self, running: dict[str, _Running], node: str) -> None:
        """The step has ended: its slot of capacity goes back."""
        _slots.give(self.backends[running.pop(node).step.compute])

    # -- scheduling -------------------------------------------------------------------

    def _end_unstarted(self, plan: Plan, results: dict[str, StepResult], *, cancelled: bool) -> Decision:
        decision = decide(plan, {n: r.status for n, r in results.items()}, cancelled=cancelled)
        for node, status in decision.ended.items():
            self._finish(results[node], status, error=StepError.cancelled() if status is Status.CANCELLED else None)
        return decision

    def _start_ready(
        self,
        plan: Plan,
        running: dict[str, _Running],
        results: dict[str, StepResult],
        run_id: str,
        force_rerun: bool,
        forced: set[str],
    ) -> bool:
        """Start or reuse what the scheduler says may go, and end what can never run; returns
        whether a ready step waits for capacity."""
        while True:
            decision = self._end_unstarted(plan, results, cancelled=False)
            crowded = reused = False
            for node in decision.ready:
                step, result = plan.step(node), results[node]
                inputs = step_inputs(step, {n: r.outputs for n, r in results.items()})
                result.cache_key, entry = cache_decision(
                    self.store, plan, step, inputs, force_rerun=force_rerun, forced=forced
                )
                if entry is not None:
                    self._reuse(result, entry)
                    reused = True
                    continue
                backend = self.backends[step.compute]
                if not _slots.take(backend):
                    self._waits_for(result, Waiting.SLOT)
                    crowded = True
                    continue
                if not self._start(step, inputs, run_id, result, running):
                    _slots.give(backend)
            if not reused:  # a reused step may have made its downstream ready at once
                return crowded

    def _start(
        self, step: PlanStep, inputs: Mapping[str, str], run_id: str, result: StepResult,
        running: dict[str, _Running],
    ) -> bool:
        """Launch the step on its compute target (or begin to, on a target that starts
        slowly); False when the target could not start it."""
        backend = self.backends[step.compute]
        try:
            step_dir, request = self._step_request(step, inputs, run_id)
            if backend.starts_slowly or step.fetches:
                if self._starter is None or self._started_signal is None:
                    self._starter = ThreadPoolExecutor(thread_name_prefix="atelier-start")
                    self._started_signal = socket.socketpair()
                    self._started_signal[0].setblocking(False)
                future = self._starter.submit(self._fetch_and_start, backend, step, request, step_dir, result)
                future.add_done_callback(partial(_signal_quietly, self._started_signal[1]))
                self._starting[step.node] = _Starting(step, run_id, step_dir, future)
                result.status = Status.PREPARING
                result.started_at = time.time()
                result.placement = {"compute": step.compute, **self.placement}
                self._emit_step(result)
                return True
            try:
                with reporting_waits(partial(self._waits_for, result)):
                    handle = backend.start(request, step_dir)
            except BaseException:
                self.store.discard(step_dir)
                raise
        except Exception as exc:  # the compute target itself failed, not the module
            self._start_failed(result, step, exc)
            return False
        self._now_running(step, run_id, handle, step_dir, result, running)
        return True

    def _fetch_and_start(
        self, backend: ComputeBackend, step: PlanStep, request: dict[str, Any], step_dir: Path, result: StepResult,
    ) -> StepHandle:
        """Download what the step reads from the web (it has no network), then start it;
        on the starter thread, as downloads take their time. Only this thread reports on
        the step meanwhile (what it waits for): the executor's leaves it be until it started."""
        inputs = dict(request["inputs"])
        for name, url in step.fetches.items():
            folder = step_dir / "fetched" / name
            folder.mkdir(parents=True)
            self.fetch(url, folder / FETCHED_FILE)
            inputs[FETCHED_PREFIX + name] = str(folder)
        with reporting_waits(partial(self._waits_for, result)):
            return backend.start({**request, "inputs": inputs}, step_dir)

    def _start_failed(self, result: StepResult, step: PlanStep, exc: BaseException) -> None:
        if isinstance(exc, UrlFetchError):
            self._finish(result, Status.FAILED, error=StepError.fetch_failed(exc.code, exc.message))
            return
        self._finish(result, Status.FAILED, error=StepError.compute_failed(step.compute, exc))

    def _now_running(
        self, step: PlanStep, run_id: str, handle: StepHandle, step_dir: Path, result: StepResult,
        running: dict[str, _Running],
    ) -> None:
        # The timeout counts from here: an environment being built is not the step's time.
        deadline = time.monotonic() + (step.timeout or self.default_timeout)
        running[step.node] = _Running(step, run_id, handle, step_dir, deadline)
        result.status = Status.RUNNING
        if result.started_at is None:
            result.started_at = time.time()
        result.placement = {"compute": step.compute, **self.placement, **handle.placement}
        self._emit_step(result)

    def _started(self, running: dict[str, _Running], results: dict[str, StepResult]) -> None:
        """Move the steps whose backend has finished starting them to running (or failed)."""
        for node, starting in list(self._starting.items()):
            if not starting.future.done():
                continue
            del self._starting[node]
            exc = starting.future.exception()
            if exc is not None:
                self.store.discard(starting.step_dir)
                _slots.give(self.backends[starting.step.compute])
                self._start_failed(results[node], starting.step, exc)
            else:
                self._now_running(starting.step, starting.run_id, starting.future.result(), starting.step_dir,
                                  results[node], running)

    def _step_request(self, step: PlanStep, inputs: Mapping[str, str], run_id: str) -> tuple[Path, dict[str, Any]]:
        step_dir = self.store.new_step_dir(run_id, step.node)
        request = StepRequest(
            node=step.node, module=step.module, version=step.version, params=step.params,
            inputs={port: str(self.store.path(digest)) for port, digest in inputs.items()},
            output_dir=str(step_dir / "out"), work_dir=str(step_dir / "work"), resources=self.resources,
            user_code=step.runs_user_code, trusted=self.trusted,
        ).to_json()
        (step_dir / "work").mkdir()
        (step_dir / "step.json").write_text(json.dumps(request))
        return step_dir, request

    def _wait(self, running: dict[str, _Running], results: dict[str, StepResult]) -> None:
        self._started(running, results)
        now = time.monotonic()
        timeout = max(0.0, min([r.deadline - now for r in running.values()] + [0.5]))
        watched: dict[int, str | None] = {}
        for node, item in running.items():
            watched[item.handle.output_fd] = node
            watched[item.handle.sentinel] = node
        started = self._started_signal if self._starting else None
        if started is not None:
            watched[started[0].fileno()] = None
        ready, _, _ = select.select(list(watched), [], [], timeout)
        for owner in {watched[fd] for fd in ready}:
            if owner is not None:
                self._pump(running[owner], results[owner])
            elif started is not None:
                _drain(started[0])
        for node, item in list(running.items()):
            if item.handle.exit_code() is not None:
                self._pump(item, results[node])
                self._complete(item, results[node])
                self._release(running, node)
            elif time.monotonic() > item.deadline:
                item.handle.kill()
                self._pump(item, results[node])
                item.handle.close()
                self.store.discard(item.step_dir)
                self._finish(results[node], Status.FAILED, error=StepError.timeout(item.step.timeout or self.default_timeout))
                self._release(running, node)

    def _pump(self, item: _Running, result: StepResult) -> None:
        data = item.partial + item.handle.read_output()
        *lines, item.partial = data.split(b"\n")
        if len(item.partial) > MAX_LINE_BYTES:
            # A step printing without end must not fill the host's memory: cut the line.
            lines.append(item.partial[:MAX_LINE_BYTES] + b" [line cut]")
            item.partial = b""
        log_lines = []
        for raw in lines:
            if len(raw) > MAX_LINE_BYTES:
                raw = raw[:MAX_LINE_BYTES] + b" [line cut]"
            if item.logged > MAX_LOG_BYTES:
                break
            item.logged += len(raw)
            if item.logged > MAX_LOG_BYTES:
                raw = f"[log cut: the step printed more than {MAX_LOG_BYTES >> 20} MB]".encode()
            # NUL cannot be stored in PostgreSQL text; a step printing one must not break the run.
            line = raw.decode("utf-8", errors="replace").rstrip("\r").replace("\x00", "\ufffd")
            if line.startswith(EVENT_PREFIX):
                self._structured(result, line[len(EVENT_PREFIX):])
            else:
                log_lines.append(line)
        if log_lines:
            result.log_tail.extend(log_lines)
            self.on_event(StepLogEvent(result.node, log_lines))

    def _structured(self, result: StepResult, payload: str) -> None:
        try:
            line = step_line.validate_json(payload)
        except ValidationError:
            return  # not a line of the contract: a step's print that looks like one, dropped
        if isinstance(line, ProgressLine):
            self.on_event(StepProgressEvent(result.node, line.fraction, line.message))
        elif isinstance(line, MetricLine):
            self.on_event(StepMetricEvent(result.node, line.name, line.value))
        else:
            self.on_event(StepLogEvent(result.node, [f"warning: {line.message}"]))

    def _complete(self, item: _Running, result: StepResult) -> None:
        code = item.handle.exit_code()
        item.handle.close()
        out = item.step_dir / "out"
        try:
            check_output_folder(out)
            manifest = read_manifest(out)
            if manifest is None:
                self._finish(result, Status.FAILED, error=item.handle.stopped_for or StepError.crashed(code))
            elif manifest.status != "completed":
                assert manifest.error is not None  # the contract says a failed step says why
                self._finish(result, Status.FAILED, error=StepError.reported(manifest.error))
            else:
                check_outputs(manifest, item.step.outputs, out)
                self._store_outputs(item, result, manifest)
                self._finish(result, Status.COMPLETED)
        except ResultRefused as exc:
            # The step's own code wrote what the host refuses (a user's script can): its error.
            self._finish(result, Status.FAILED, error=StepError.result_refused(str(exc)))
        finally:
            self.store.discard(item.step_dir)

    def _store_outputs(self, item: _Running, result: StepResult, manifest: ResultManifest) -> None:
        out = item.step_dir / "out"
        exports = [(export, export_folder(out, export)) for export in manifest.exports]
        if exports and self.datasets is None:
            raise ResultRefused("Export Data needs a dataset catalog, and this run has none")
        for port, meta in manifest.outputs.items():
            # Hashed here, by the host, as the folder enters the store: never the step's word.
            result.outputs[port] = {**meta.to_json(), "artifact": self.store.put_folder(out / port)}
        if (out / IMAGES).is_dir():
            result.images = self.store.put_folder(out / IMAGES)
        result.metrics = dict(manifest.metrics)  # type: ignore[arg-type]  # None: not a finite number
        result.visuals = dict(manifest.visuals)
        result.warnings = list(manifest.warnings)
        for export, folder in exports:
            assert self.datasets is not None
            try:
                version = self.datasets.register(export.name, folder)
            except ExportRefused as exc:
                raise ResultRefused(f"dataset {export.name!r} could not be registered: {exc}") from None
            self.on_event(StepLogEvent(result.node, [f"registered dataset {export.name!r} version {version}"]))
        if item.step.deterministic:
            self.store.record(result.cache_key or "", {
                "artifacts": {port: o["artifact"] for port, o in result.outputs.items()},
                "outputs": result.outputs,
                "images": result.images,
                "metrics": result.metrics,
                "visuals": result.visuals,
                "warnings": result.warnings,
                "produced_by": {"run_id": item.run_id, "node": result.node},
            })

    def _reuse(self, result: StepResult, entry: dict[str, Any]) -> None:
        reuse_into(result, entry)
        self._finish(result, Status.REUSED)

    def _finish(self, result: StepResult, status: Status, *, error: StepError | None = None) -> None:
        result.status = status
        result.finished_at = time.time()
        if result.started_at is None and status in (Status.SKIPPED, Status.CANCELLED):
            result.started_at = result.finished_at
        if error is not None:
            result.error = error.at(result.node).to_json()
        self.on_step_end(result)
        self._emit_step(result)

    def _waits_for(self, result: StepResult, reason: Waiting) -> None:
        """The step waits for `reason` now: its watchers are told (once)."""
        if result.waiting is not reason:
            result.waiting = reason
            self._emit_step(result)

    def _emit_step(self, result: StepResult) -> None:
        if result.status not in (Status.QUEUED, Status.PREPARING):
            result.waiting = None  # it started, or ended: it waits for nothing more
        self.on_event(StepStatusEvent(
            node=result.node, status=result.status, reused=result.reused, started_at=result.started_at,
            finished_at=result.finished_at,
            duration_s=result.duration_s if result.status.terminal else None,
            error=result.error, cache_key=result.cache_key, reused_from=result.reused_from,
            placement=result.placement, waiting=result.waiting,
        ))

    def _install_sigterm(self) -> Any:
        if threading.current_thread() is not threading.main_thread():
            return None

        def on_sigterm(signum: int, frame: Any) -> None:
            raise _Cancelled

        return signal.signal(signal.SIGTERM, on_sigterm)

    def _restore_sigterm(self, previous: Any) -> None:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
