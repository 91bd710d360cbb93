"""Who executes a recorded run: this process (embedded) or Celery workers (distributed).

Embedded default (no broker, no worker): after the transaction that recorded a run
commits, a thread of this process drives the run's executor; the steps still run in their
own processes. The dispatcher keeps each live executor by run id, so a cancel request
handled by any other thread of this process can stop it.

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

from designer.engine.events import RunStatusEvent, Status
from designer.engine.executor import Executor

from .models import Run, RunStatus

logger = logging.getLogger(__name__)


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
        transaction rolled back leaves nothing behind here.
        """
        key = str(run_id)
        transaction.on_commit(lambda: self._start(key))

    def cancel(self, *, run_id: Any) -> bool:
        """Stop run `run_id` if this process executes it; False when no executor of ours holds it.

        A run submitted here that has not started yet will not start; the caller records it
        as cancelled.
        """
        with self._lock:
            slot = self._slots.get(str(run_id))
            if slot is None:
                return False
            slot.cancelled = True
            if slot.executor is None:
                return False
            slot.executor.cancel()
            return True

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
        from . import services  # services submit runs here: import at call time, not at load

        try:
            executor = services.run_executor_build(run_id=key)
            with self._lock:
                if slot.cancelled:
                    return
                slot.executor = executor
            run = Run.objects.filter(pk=key, status=RunStatus.QUEUED).first()
            if run is None:
                return  # cancelled (or taken) by another process before it started
            services.run_execute(run=run, executor=executor)
        except Exception:
            # A bug or a lost database must not leave the run "running" forever.
            logger.exception("run %s failed in its dispatch thread", key)
            try:
                services.run_record_event(run_id=key, event=RunStatusEvent(Status.FAILED))
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
