"""The `local` compute target: each step in its own process, forked from a warm server.

Every step still gets its own process, working folder and process group, but it is forked
from a `multiprocessing` fork server that has already imported pandas, scikit-learn and
the module library (modules.sdk.warm), so a step starts in milliseconds instead of
paying a second of imports.
"""
from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import resource
import signal
import sys
from pathlib import Path
from typing import Any

_PRELOAD = ["modules.sdk.warm"]
_mp = multiprocessing.get_context("forkserver")


def start_fork_server() -> None:
    """Start the warm process now, so that its imports overlap with the caller's own.

    Cheap to call again; this module imports nothing heavy so callers can do it first.
    """
    _mp.set_forkserver_preload(_PRELOAD)
    from multiprocessing import forkserver

    forkserver.ensure_running()


def _step_main(request: dict[str, Any], pipe: multiprocessing.connection.Connection, memory_limit_mb: int | None) -> None:
    # A process group of its own: the terminal's Ctrl-C goes to the executor, which then
    # stops steps deliberately (and anything they started) and records them as cancelled.
    os.setpgrp()
    os.dup2(pipe.fileno(), 1)
    os.dup2(pipe.fileno(), 2)
    pipe.close()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    if memory_limit_mb:
        limit = memory_limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.chdir(request["work_dir"])
    from modules.sdk.runner import execute

    manifest = execute(request)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0 if manifest["status"] == "completed" else 1)


class LocalStepHandle:
    def __init__(self, process: multiprocessing.process.BaseProcess, output: multiprocessing.connection.Connection) -> None:
        self.process = process
        self._output = output
        self.output_fd = output.fileno()
        os.set_blocking(self.output_fd, False)

    @property
    def sentinel(self) -> int:
        return self.process.sentinel

    def read_output(self) -> bytes:
        """Whatever the step has written so far (b"" when nothing is waiting)."""
        chunks = []
        while True:
            try:
                chunk = os.read(self.output_fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)

    def exit_code(self) -> int | None:
        return self.process.exitcode

    def kill(self) -> None:
        """Stop the step and everything it started."""
        if self.process.pid is None or self.process.exitcode is not None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            self.process.join(timeout=2)
            if self.process.exitcode is not None:
                return

    def close(self) -> None:
        self.process.join(timeout=5)
        self._output.close()
        self.process.close()


class LocalBackend:
    name = "local"

    def __init__(self, *, capacity: int = 2, memory_limit_mb: int | None = None) -> None:
        self.capacity = capacity
        self.memory_limit_mb = memory_limit_mb
        _mp.set_forkserver_preload(_PRELOAD)

    def start(self, request: dict[str, Any], step_dir: Path) -> LocalStepHandle:
        reader, writer = _mp.Pipe(duplex=False)
        process = _mp.Process(
            target=_step_main, args=(request, writer, self.memory_limit_mb), name=f"step-{request['node']}"
        )
        process.start()
        writer.close()
        return LocalStepHandle(process, reader)
