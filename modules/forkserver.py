"""A warm process that forks one fresh child per step.

    python -m modules.forkserver SOCKET_PATH

Starting Python and importing pandas and scikit-learn costs about a second; this server
pays it once (modules.sdk.warm) and then forks a child for every step it is asked to
run, so each step keeps its own process, process group and working folder but starts in
milliseconds. It has no Django in it: the same server can run inside a container.

Protocol, one Unix-socket connection per step:
  client -> server: 4-byte big-endian length + STEP.json bytes, with the step's output
                    pipe (stdout and stderr) attached as a file descriptor (SCM_RIGHTS);
  server -> client: 8-byte pid once forked, then 4-byte signed exit status when the step
                    ends (negative: killed by that signal), then the server closes it.
The server exits when its standard input closes (its client is gone), killing the steps
still running.

It sits outside `modules.sdk` so that clients can import the protocol without the SDK's
pandas imports, and start the server before loading anything heavy themselves.
"""
from __future__ import annotations

import gc
import json
import os
import resource
import selectors
import signal
import socket
import struct
import sys
from typing import Any

_LENGTH = struct.Struct(">I")
PID = struct.Struct(">q")
STATUS = struct.Struct(">i")


def _read_request(conn: socket.socket) -> tuple[dict[str, Any], int]:
    data, fds, _, _ = socket.recv_fds(conn, 1 << 16, 1)
    if not fds or len(data) < _LENGTH.size:
        raise ValueError("a request needs its length and an output descriptor")
    (length,) = _LENGTH.unpack_from(data)
    body = bytearray(data[_LENGTH.size:])
    while len(body) < length:
        chunk = conn.recv(length - len(body))
        if not chunk:
            raise ValueError("the request was cut short")
        body += chunk
    return json.loads(body), fds[0]


def _run_child(request: dict[str, Any], output_fd: int) -> None:
    """In the forked child: become the step, then exit."""
    for sig in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
    signal.set_wakeup_fd(-1)
    # Its own process group, so the client can stop the step and anything it started.
    os.setpgrp()
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    os.close(output_fd)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    memory_mb = (request.get("limits") or {}).get("memory_mb")
    if memory_mb:
        limit = int(memory_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.chdir(request.get("work_dir") or request["output_dir"])
    from modules.sdk.runner import execute

    code = 1
    try:
        code = 0 if execute(request)["status"] == "completed" else 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve(path: str) -> None:
    from modules.sdk import warm  # noqa: F401 (the imports every step inherits)

    # Keep the collector off the preloaded objects: touching them would copy their
    # memory pages into every forked step.
    gc.freeze()

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o600)
    listener.listen(64)

    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # only to wake the loop
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the client decides when steps stop

    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(wake_r, selectors.EVENT_READ, "child")
    selector.register(sys.stdin, selectors.EVENT_READ, "client")
    children: dict[int, socket.socket] = {}

    while True:
        for key, _ in selector.select():
            if key.data == "client" and not os.read(sys.stdin.fileno(), 1):
                # The client is gone (a killed worker, say) and nobody will collect these
                # steps' results: stop them rather than leave them running unseen.
                for pid in children:
                    try:
                        os.killpg(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                os.unlink(path)
                return
            if key.data == "accept":
                conn, _ = listener.accept()
                try:
                    request, output_fd = _read_request(conn)
                except (ValueError, OSError):
                    conn.close()
                    continue
                pid = os.fork()
                if pid == 0:
                    listener.close()
                    conn.close()
                    _run_child(request, output_fd)
                os.close(output_fd)
                conn.sendall(PID.pack(pid))
                children[pid] = conn
            elif key.data == "child":
                try:
                    os.read(wake_r, 4096)
                except BlockingIOError:
                    pass
            _reap(children)


def _reap(children: dict[int, socket.socket]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = children.pop(pid, None)
        if conn is not None:
            code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
            try:
                conn.sendall(STATUS.pack(code))
            except OSError:
                pass  # the client went away; nothing to tell
            conn.close()


if __name__ == "__main__":
    serve(sys.argv[1])
