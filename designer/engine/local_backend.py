"""The `local` compute target: each step in its own process, forked from a warm server.

Every step gets its own process, process group and working folder, forked by
`modules.forkserver` from a process that has already imported pandas, scikit-learn
and the module library, so a step starts in milliseconds instead of paying a second of
imports. This module imports nothing heavy: callers can start the server first and let
its imports overlap with their own.
"""
from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from modules.forkserver import PID, STATUS

_STARTUP_TIMEOUT_S = 120


class ForkServerError(RuntimeError):
    pass


class ForkServer:
    """The client side: starts the server process and asks it for step processes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._path = ""

    def start(self) -> None:
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                return
            self._path = os.path.join(tempfile.mkdtemp(prefix="atelier-fork-"), "server.sock")
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
            # stdin is the server's lifeline: when this process ends, the server does too.
            self._process = subprocess.Popen(
                [sys.executable, "-m", "modules.forkserver", self._path], stdin=subprocess.PIPE, env=env,
            )

    def _connect(self) -> socket.socket:
        self.start()
        deadline = time.monotonic() + _STARTUP_TIMEOUT_S
        while True:
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                conn.connect(self._path)
                return conn
            except (FileNotFoundError, ConnectionRefusedError):
                conn.close()
                assert self._process is not None
                if self._process.poll() is not None:
                    raise ForkServerError(f"the step server exited with code {self._process.returncode}") from None
                if time.monotonic() > deadline:
                    raise ForkServerError("the step server did not start in time") from None
                time.sleep(0.02)

    def spawn(self, request: dict[str, Any]) -> tuple[int, socket.socket, int]:
        """Fork a step process; returns (pid, status connection, read end of its output)."""
        body = json.dumps(request).encode()
        read_fd, write_fd = os.pipe()
        conn = self._connect()
        try:
            socket.send_fds(conn, [len(body).to_bytes(4, "big") + body], [write_fd])
            os.close(write_fd)
            (pid,) = PID.unpack(_recv_exactly(conn, PID.size))
        except BaseException:
            conn.close()
            os.close(read_fd)
            raise
        return pid, conn, read_fd


def _recv_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ForkServerError("the step server closed the connection")
        data += chunk
    return data


_server = ForkServer()


def start_fork_server() -> None:
    """Start the warm process now (cheap to call again)."""
    _server.start()


class LocalStepHandle:
    def __init__(self, pid: int, conn: socket.socket, output_fd: int) -> None:
        self.pid = pid
        self._conn = conn
        self.output_fd = output_fd
        self.sentinel = conn.fileno()
        self.placement = {"host": socket.gethostname(), "pid": pid}
        self._code: int | None = None
        os.set_blocking(output_fd, False)

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
        if self._code is None and select.select([self._conn], [], [], 0)[0]:
            data = self._conn.recv(STATUS.size)
            # A closed connection without a status means the server itself went away.
            self._code = STATUS.unpack(data)[0] if len(data) == STATUS.size else -signal.SIGKILL
        return self._code

    def kill(self) -> None:
        """Stop the step and everything it started."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if self.exit_code() is not None:
                return
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + 2
            while self.exit_code() is None and time.monotonic() < deadline:
                select.select([self._conn], [], [], 0.05)

    def close(self) -> None:
        self._conn.close()
        os.close(self.output_fd)


class LocalBackend:
    name = "local"

    def __init__(self, *, capacity: int = 2, memory_limit_mb: int | None = None) -> None:
        self.capacity = capacity
        self.memory_limit_mb = memory_limit_mb

    def start(self, request: dict[str, Any], step_dir: Path) -> LocalStepHandle:
        if self.memory_limit_mb:
            request = {**request, "limits": {"memory_mb": self.memory_limit_mb}}
        return LocalStepHandle(*_server.spawn(request))
