"""Who executes a recorded run: this process (embedded) or Celery workers (distributed).

Embedded default (no broker, no worker): after the transaction that recorded a run
commits, a thread of this process drives the run's executor; the steps still run in their
own processes. The dispatcher keeps each live executor by run id, so a cancel request
handled by any other thread of this process can stop it. The run names this process as
its driver (`leases`), and a server takes over the runs whose process stopped
(`runs_recover`): it resumes them, or fails them as interrupted when they cannot be.

Distributed (CELERY_BROKER_URL set): see `orchestration`; every step is a task on its
compute target's queue, and each step's end schedules what became ready.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connections, transaction

from designer.engine.events import ACTIVE, Status, StepLogEvent
from designer.engine.executor import Executor

from . import execution, leases
from .models import Run, RunSource, StepRun
from .recording import RunNotDriven, run_record_event

logger = logging.getLogger(__name__)

_CLI_GONE = "the run_pipeline command running this run stopped before the run ended; run it again"
_SERVER_GONE = (
    "the server process running this run stopped before the run ended, and resuming is off "
    "(ATELIER_RESUME_RUNS=false); run it again"
)
_RESUMED = "the server process running this step stopped; another one resumed the run, and this step runs again"


@dataclass
class _Slot:
    """A run this process executes, from its commit to the end of its thread."""

    cancelled: bool = False
    executor: Executor | None = None
    thread: threading.Thread | None = field(default=None, repr=False)


class EmbeddedDispatcher:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[str, _Slot] = {}

    def submit(self, *, run_id: Any) -> None:
        """Execute run `run_id` once the current transaction commits (at once outside one).

        Until then no other request can see the run, so there is nothing to cancel; and a
        transaction rolled back leaves nothing behind here. The run is this process's from
        the moment it is recorded: if the process stops before it ends, another takes it.
        """
        leases.claim(run_id=run_id)
        key = str(run_id)
        transaction.on_commit(lambda: self._start(key))

    def resume(self, *, run_id: Any) -> None:
        """Execute a run this process took over (what ended well is reused)."""
        with self._lock:
            if str(run_id) in self._slots:
                return  # a thread of this process executes it already
        self._start(str(run_id))

    def cancel(self, *, run_id: Any) -> bool:
        """Stop run `run_id`: True when its executor (here, or in another live server
        process, at that one's next heartbeat) stops it; False when nothing executes it,
        and the caller records it as cancelled."""
        with self._lock:
            slot = self._slots.get(str(run_id))
            if slot is not None:
                slot.cancelled = True
                if slot.executor is None:
                    return False  # its thread has not started it: it never will
                slot.executor.cancel()
                return True
        return leases.request_cancel(run_id=run_id)

    def join(self, timeout: float | None = None) -> None:
        """Wait for the runs in progress to end (for an orderly shutdown, and for tests)."""
        with self._lock:
            threads = [s.thread for s in self._slots.values() if s.thread is not None]
        for thread in threads:
            thread.join(timeout)

    def _start(self, key: str) -> None:
        slot = _Slot()
        slot.thread = threading.Thread(target=self._execute, args=(key, slot), name=f"run-{key}", daemon=True)
        with self._lock:
            self._slots[key] = slot
        slot.thread.start()

    def _execute(self, key: str, slot: _Slot) -> None:
        try:
            run = Run.objects.filter(
                pk=key, status__in=[s.value for s in ACTIVE], driver=str(leases.this_process())
            ).first()
            if run is None:
                return  # cancelled, or taken over by another process, before it started
            executor = execution.run_executor_build(run_id=key)
            with self._lock:
                if slot.cancelled:
                    return
                slot.executor = executor
            execution.run_execute(run=run, executor=executor)
        except RunNotDriven:
            logger.warning("run %s: another process took it over; this one stopped executing it", key)
        except Exception as exc:
            # A bug or a lost database must not leave the run "running" forever.
            logger.exception("run %s failed in its dispatch thread", key)
            try:
                execution.run_interrupt(
                    run_id=key, message=f"the server failed while executing this run ({type(exc).__name__}: {exc})",
                )
            except Exception:
                logger.exception("run %s: could not record the failure", key)
        finally:
            # Connections are per thread; this thread's would otherwise stay open for good.
            connections.close_all()
            with self._lock:
                self._slots.pop(key, None)


class CeleryDispatcher:
    def submit(self, *, run_id: Any) -> None:
        """Schedule the run's first steps once the transaction that recorded it commits."""
        from . import orchestration

        key = str(run_id)
        transaction.on_commit(lambda: orchestration.run_advance(run_id=key))

    def resume(self, *, run_id: Any) -> None:
        """Give a run this process took over from a stopped embedded process to the workers."""
        from . import orchestration

        orchestration.run_restart(run_id=run_id)

    def cancel(self, *, run_id: Any) -> bool:
        from . import orchestration

        orchestration.run_cancel_request(run_id=run_id)
        return True


@cache
def _embedded() -> EmbeddedDispatcher:
    return EmbeddedDispatcher()


def dispatcher() -> EmbeddedDispatcher | CeleryDispatcher:
    """The dispatcher this deployment uses (read at each call: tests switch it)."""
    return CeleryDispatcher() if settings.CELERY_BROKER_URL else _embedded()


def runs_recover() -> int:
    """Take over every embedded run whose process stopped (a server killed or restarted, a
    `run_pipeline` killed): resume it with this deployment's dispatcher, or fail it as
    interrupted when it cannot be resumed (a command's run, or ATELIER_RESUME_RUNS=false).
    Returns how many runs this process took over."""
    taken = 0
    for orphan in leases.orphans():
        if not leases.take_over(orphan):
            continue  # another process was first
        taken += 1
        try:
            if orphan.source == RunSource.CLI:
                execution.run_interrupt(run_id=orphan.run_id, message=_CLI_GONE)
            elif not settings.DISPATCH["RESUME_RUNS"]:
                execution.run_interrupt(run_id=orphan.run_id, message=_SERVER_GONE)
            else:
                _note_resumed(orphan.run_id)
                dispatcher().resume(run_id=orphan.run_id)
            logger.warning("run %s: its process (%s) stopped; taken over", orphan.run_id, orphan.driver)
        except RunNotDriven:
            continue  # taken again meanwhile
        except Exception:
            # One run that cannot be recovered must not keep the others waiting; this one is
            # tried again once its lease has run out.
            logger.exception("run %s: taken over, but could not be resumed or ended", orphan.run_id)
    return taken


def _note_resumed(run_id: Any) -> None:
    me = str(leases.this_process())
    with transaction.atomic():
        started = StepRun.objects.filter(run_id=run_id, status__in=[Status.PREPARING.value, Status.RUNNING.value])
        for node in started.values_list("node", flat=True):
            run_record_event(run_id=run_id, event=StepLogEvent(node, [_RESUMED]), driver=me)


def serve() -> None:
    """In a server process (designer/asgi.py): with embedded dispatch, take over the runs of
    stopped processes now and every sweep interval. (With a broker, beat's sweep does.)"""
    if not settings.CELERY_BROKER_URL:
        leases.keeper().serve(runs_recover)
