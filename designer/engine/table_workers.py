"""A few processes that read stored and uploaded tables for the server, each within a
memory limit, so that the web process never holds a table.

A preview, a profile or an upload of a large table needs memory in proportion to the
table; in the web process that memory stays taken (allocators seldom give it back) and
one bad table can take the server down. Here the work runs in a worker process whose
memory is capped (RLIMIT_DATA: its heap and private mappings, what reading a table
allocates): a table that needs more fails with `TableWorkerOutOfMemory`, and the server
goes on. (Not RLIMIT_AS: that counts address space merely reserved, by allocators and
thread stacks, which is several times what a worker uses.)

Workers are not forked from the (large) web process: they come from multiprocessing's
fork server, a fresh interpreter that has imported pandas and pyarrow once. What runs in
them must be importable without Django (designer.engine.table_views, table_intake).
"""
from __future__ import annotations

import multiprocessing
import os
import resource
import select
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

# Imported once by the fork server, so that each worker starts with them loaded.
PRELOAD = [
    "numpy", "pandas", "pyarrow", "pyarrow.parquet", "designer.engine.table_views", "designer.engine.table_intake",
]


class TableWorkerOutOfMemory(Exception):
    """The work needed more memory than a table worker has."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _exit_when_gone(process: int) -> None:
    """End this worker as soon as `process` ends (even killed outright, when it cannot
    stop its pool): a worker and its fork server hold each other's pipes open, so
    without this they would wait for work forever."""
    try:
        watched = os.pidfd_open(process)
    except ProcessLookupError:
        os._exit(0)

    def wait() -> None:
        select.select([watched], [], [])
        os._exit(0)

    threading.Thread(target=wait, name="owner-watch", daemon=True).start()


def _worker_start(owner: int, memory_bytes: int) -> None:
    import pyarrow as pa

    _exit_when_gone(owner)

    # Arrow's default allocators keep what they freed for later: the system allocator hands
    # it back, so that a worker's memory is what its current work needs. One thread each:
    # a worker does one request's work, and every thread's stack counts too.
    pa.set_memory_pool(pa.system_memory_pool())
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    resource.setrlimit(resource.RLIMIT_DATA, (memory_bytes, memory_bytes))


class TableWorkers:
    """`workers` processes, each limited to `memory_mb` megabytes of memory."""

    def __init__(self, *, workers: int, memory_mb: int) -> None:
        self.workers = workers
        self.memory_mb = memory_mb
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(PRELOAD)
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers, mp_context=context, initializer=_worker_start,
                    initargs=(os.getpid(), self.memory_mb << 20),
                )
            return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(*args, **kwargs)` in a worker: its result, or the exception it raised.
        Raises TableWorkerOutOfMemory when the work needed more memory than a worker has."""
        pool = self._executor()
        try:
            return pool.submit(fn, *args, **kwargs).result()
        except MemoryError:  # pyarrow's ArrowMemoryError is one too
            raise TableWorkerOutOfMemory(self._out_of_memory()) from None
        except BrokenProcessPool:
            # A worker died mid-work: out of memory where Python could not raise it (a C
            # library aborting on a failed allocation), or killed. The pool cannot be used
            # again; the next call starts another.
            self._discard(pool)
            raise TableWorkerOutOfMemory(self._out_of_memory()) from None

    def _out_of_memory(self) -> str:
        return f"the table needs more memory than the {self.memory_mb:,} MB a table worker may use"

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
