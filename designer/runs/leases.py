"""Which process drives an embedded run, and how the others find out that it stopped.

An embedded run (no Celery) is executed by one process: the server that recorded it, or
`run_pipeline`. That process's id is on the run (`Run.driver`), and while the process lives
a thread of it renews the run's lease (`Run.driver_seen_at`) every few seconds. A run whose
driver went silent, or was a process of this machine that no longer exists, is an orphan,
and a server takes it over (`dispatch.runs_recover`). Taking over is one conditional UPDATE,
so two servers never both take one run; and a process that only looked dead (stopped for a
while, cut off from the database) learns at its next heartbeat, or at the next event it
records, that the run is no longer its own, and stops executing it.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import Q

from designer.engine.events import ACTIVE

from .models import Run

logger = logging.getLogger(__name__)

_ACTIVE = [s.value for s in ACTIVE]


def _now() -> dt.datetime:
    return dt.datetime.now(tz=dt.timezone.utc)


def _pid_namespace() -> str:
    # Two containers may share a host name (host networking) but never a PID namespace:
    # a process id is only looked up where it means the same process.
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


@dataclass(frozen=True)
class ProcessId:
    """A process, as a run's driver names it. The nonce tells a process from a later one
    with the same pid (a server restarted in a container is often pid 1 again)."""

    host: str
    pid_namespace: str
    pid: int
    nonce: str

    def __str__(self) -> str:
        return f"{self.host}|{self.pid_namespace}|{self.pid}|{self.nonce}"

    @classmethod
    def parse(cls, text: str) -> ProcessId | None:
        parts = text.split("|")
        if len(parts) != 4 or not parts[2].isdigit():
            return None
        return cls(parts[0], parts[1], int(parts[2]), parts[3])

    def gone(self) -> bool:
        """True when this process certainly no longer runs: it was on this machine (same PID
        namespace) and its pid is free, or is this process's. False when it cannot be told
        from here; its lease says then."""
        here = this_process()
        if (self.host, self.pid_namespace) != (here.host, here.pid_namespace):
            return False
        if self.pid == here.pid:
            return self.nonce != here.nonce
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # a process of another user has that pid now
            return False
        return False


_identities: dict[int, ProcessId] = {}


def this_process() -> ProcessId:
    pid = os.getpid()  # a forked child is another process
    if pid not in _identities:
        _identities[pid] = ProcessId(socket.gethostname(), _pid_namespace(), pid, secrets.token_hex(4))
    return _identities[pid]


def claim(*, run_id: Any) -> bool:
    """Make this process the driver of run `run_id` if no process, or this one, drives it.
    Runs in the caller's transaction: the run that is recorded is never without a driver."""
    me = str(this_process())
    return bool(
        Run.objects.filter(pk=run_id, driver__in=["", me]).update(driver=me, driver_seen_at=_now())
    )


def driver_lost(driver: str, seen_at: dt.datetime | None, *, now: dt.datetime | None = None) -> bool:
    """Whether the process `driver` has stopped driving its runs: gone, or silent too long."""
    if not driver:
        return False  # Celery workers drive it (or nothing yet: a distributed run not advanced)
    process = ProcessId.parse(driver)
    if process is None or seen_at is None:
        return True
    cutoff = (now or _now()) - dt.timedelta(seconds=settings.DISPATCH["WORKER_LOST_AFTER_S"])
    return seen_at < cutoff or process.gone()


@dataclass(frozen=True)
class Orphan:
    run_id: Any
    driver: str
    source: str


def orphans(*, now: dt.datetime | None = None) -> list[Orphan]:
    """Unfinished embedded runs whose driver has stopped, or stopped driving them (this
    process too: a run of its own whose lease it no longer renews has no thread here)."""
    unfinished = Run.objects.filter(status__in=_ACTIVE).exclude(driver="")
    return [
        Orphan(run_id, driver, source)
        for run_id, driver, seen_at, source in unfinished.values_list("pk", "driver", "driver_seen_at", "source")
        if driver_lost(driver, seen_at, now=now)
    ]


def take_over(orphan: Orphan) -> bool:
    """Become the driver of an orphaned run; False when another process took it first."""
    return bool(
        Run.objects.filter(pk=orphan.run_id, driver=orphan.driver, status__in=_ACTIVE).update(
            driver=str(this_process()), driver_seen_at=_now()
        )
    )


def request_cancel(*, run_id: Any) -> bool:
    """Ask the process that drives run `run_id` to stop it. True when a live process other
    than this one drives it (it stops the run at its next heartbeat); False when none does,
    in which case this process is now its driver and must record the run's end itself."""
    row = Run.objects.filter(pk=run_id).values_list("driver", "driver_seen_at").first()
    if row is None:
        return False
    driver, seen_at = row
    Run.objects.filter(pk=run_id).update(cancel_requested=True)
    if driver and driver != str(this_process()) and not driver_lost(driver, seen_at):
        return True
    Run.objects.filter(pk=run_id, driver=driver).update(driver=str(this_process()), driver_seen_at=_now())
    return False


class Keeper:
    """The thread that renews the leases of the runs this process executes, stops those it
    no longer drives or that another process was asked to cancel, and, in a server, takes
    over orphaned runs (at start-up, then every sweep interval). Without `background`, no
    thread: the caller calls renew()."""

    def __init__(self, *, background: bool = True) -> None:
        self._background = background
        self._lock = threading.Lock()
        self._held: dict[str, Callable[[], None]] = {}
        self._thread: threading.Thread | None = None
        self._recover: Callable[[], object] | None = None

    def hold(self, run_id: Any, stop: Callable[[], None]) -> None:
        """Keep run `run_id`'s lease while this process executes it; `stop` stops it."""
        with self._lock:
            self._held[str(run_id)] = stop
            self._ensure_thread()

    def release(self, run_id: Any) -> None:
        with self._lock:
            self._held.pop(str(run_id), None)

    def serve(self, recover: Callable[[], object]) -> None:
        """Also call `recover` (taking over orphaned runs) now and every sweep interval."""
        with self._lock:
            self._recover = recover
            self._ensure_thread()

    def _ensure_thread(self) -> None:
        if self._background and (self._thread is None or not self._thread.is_alive()):
            self._thread = threading.Thread(target=self._loop, name="atelier-run-leases", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        beat, sweep = settings.DISPATCH["HEARTBEAT_S"], settings.DISPATCH["SWEEP_S"]
        since_sweep = sweep  # a server looks for orphans as soon as it starts
        while True:
            try:
                self.renew()
                with self._lock:
                    recover = self._recover
                if recover is not None and since_sweep >= sweep:
                    since_sweep = 0.0
                    recover()
            except Exception:
                # A database that is away for a while must not end the heartbeat for good.
                logger.exception("run leases: heartbeat or take-over failed; trying again")
            finally:
                # This thread's connection goes back between beats (a pool, or a database a
                # test is about to drop, must not wait for it).
                connections.close_all()
            threading.Event().wait(beat)
            since_sweep += beat

    def renew(self) -> None:
        with self._lock:
            held = dict(self._held)
        if not held:
            return
        me = str(this_process())
        runs = Run.objects.filter(pk__in=list(held))
        runs.filter(driver=me).update(driver_seen_at=_now())
        # Only what is seen to be so: a run this thread cannot see yet (its transaction has
        # not committed) is not taken for lost.
        for run_id in runs.filter(~Q(driver=me) | Q(cancel_requested=True)).values_list("pk", flat=True):
            held[str(run_id)]()


_keeper = Keeper()


def keeper() -> Keeper:
    return _keeper
