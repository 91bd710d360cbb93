"""A warm process that forks one fresh child per step.

    python -m modules.forkserver SOCKET_PATH [--confine]

Starting Python and importing pandas and scikit-learn costs about a second; this server
pays it once (modules.sdk.warm) and then forks a child for every step it is asked to
run, so each step keeps its own processes and working folder but starts in
milliseconds. It has no Django in it: the same server runs inside a step container and
inside the local sandbox.

Every step gets a reaper: a forked child that forks the step itself, waits for it, stops
whatever the step left behind (it is their subreaper), and exits with the step's status.
With `--confine` (the local sandbox, see modules.sandbox), the reaper first gives the step
namespaces of its own and only its own folders, and the step is pid 1 of its pid
namespace: when it ends, the kernel kills every process it started.

Protocol, one Unix-socket connection per step (both halves are here: `serve` and
`request_step`):
  client -> server: 4-byte big-endian length + STEP.json bytes, with the step's output
                    pipe (stdout and stderr) attached as a file descriptor (SCM_RIGHTS);
                    later, any byte (or closing the connection) stops the step;
  server -> client: 8-byte pid (the reaper's, in the server's pid namespace) once
                    forked, then a 4-byte signed exit status when the step ends (negative:
                    killed by that signal), then the server closes the connection.
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
import time
from typing import Any

_LENGTH = struct.Struct(">I")
PID = struct.Struct(">q")
STATUS = struct.Struct(">i")


class StepServerError(RuntimeError):
    """The step server could not take the step (gone, or closed the connection)."""


# -- the client's half ----------------------------------------------------------------------


def request_step(conn: socket.socket, request: dict[str, Any]) -> tuple[int, int]:
    """Ask the server at the other end of `conn` to run a step; returns (reaper pid, read
    end of the step's output). `conn` then carries the exit status (and a stop request)."""
    body = json.dumps(request).encode()
    read_fd, write_fd = os.pipe()
    try:
        socket.send_fds(conn, [_LENGTH.pack(len(body)) + body], [write_fd])
        data = conn.recv(PID.size, socket.MSG_WAITALL)
        if len(data) != PID.size:
            raise StepServerError("the step server closed the connection before starting the step")
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
    return PID.unpack(data)[0], read_fd


def read_status(conn: socket.socket) -> int:
    """The step's exit status, once `conn` is readable (a killed server: SIGKILL)."""
    data = conn.recv(STATUS.size, socket.MSG_WAITALL)
    return STATUS.unpack(data)[0] if len(data) == STATUS.size else -signal.SIGKILL


# -- the server's half ----------------------------------------------------------------------


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


def _set_limits(limits: dict[str, Any], *, confined: bool) -> None:
    """rlimits of the step (its processes inherit them): the limits a confined step cannot
    raise, and the only ones where no cgroup is at hand."""
    mb = 1024 * 1024
    wanted = {
        resource.RLIMIT_AS: limits.get("memory_mb") and int(limits["memory_mb"]) * mb,
        resource.RLIMIT_CPU: limits.get("cpu_s") and int(limits["cpu_s"]),
        resource.RLIMIT_FSIZE: limits.get("file_mb") and int(limits["file_mb"]) * mb,
        resource.RLIMIT_NOFILE: limits.get("open_files") and int(limits["open_files"]),
        resource.RLIMIT_CORE: 0,
    }
    if confined:
        # Counted per user of the sandbox's own user namespace: this server's steps only.
        wanted[resource.RLIMIT_NPROC] = limits.get("processes") and int(limits["processes"])
    for kind, value in wanted.items():
        if value is not None:
            resource.setrlimit(kind, (value, value))
    # A file over its size limit: the write fails with "File too large" (the step reports
    # it) instead of the process dying from SIGXFSZ without a word.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _become_step(request: dict[str, Any], *, confined: bool) -> None:
    """In the step's own process: the last restrictions, then the step; never returns."""
    code = 1
    try:
        from modules import sandbox

        sandbox.die_with_parent()
        if confined:
            sandbox.drop_privileges()
        else:
            os.setpgrp()  # its reaper stops its process group and its orphans
        _set_limits(request.get("limits") or {}, confined=confined)
        os.chdir(request.get("work_dir") or request["output_dir"])
        from modules.sdk.runner import execute

        code = 0 if execute(request)["status"] == "completed" else 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _run_init(request: dict[str, Any]) -> None:
    """pid 1 of a confined step's pid namespace: the step's /proc, then the step as its
    child (pid 2, so that signals it sends itself work as anywhere else); never returns.
    When this process ends, the kernel kills every process left in the namespace."""
    code = 70
    try:
        from modules import sandbox

        sandbox.die_with_parent()
        sandbox.mount_step_proc()
        step = os.fork()
        if step == 0:
            _become_step(request, confined=True)
        while True:
            try:
                _, status = os.waitpid(step, 0)
                break
            except InterruptedError:
                continue
        # pid 1 cannot die by a signal of its own: the reaper reads 128 + N as "killed by N".
        code = os.waitstatus_to_exitcode(status)
        code = 128 - code if code < 0 else code
    finally:
        os._exit(code)


def _stop_descendants(step: int) -> None:
    """Kill the step's process group and every orphan handed back to this reaper, until
    none is left (whatever they fork meanwhile is found on the next pass)."""
    try:
        os.killpg(step, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    while True:
        children = _children()
        if not children:
            break
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _reap_all(block=False)
        time.sleep(0.001)
    _reap_all(block=False)


def _children() -> list[int]:
    pids: list[int] = []
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/children") as handle:
                pids += [int(pid) for pid in handle.read().split()]
        except FileNotFoundError:
            pass
    return pids


def _reap_all(*, block: bool) -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, 0 if block else os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _run_reaper(request: dict[str, Any], output_fd: int, *, confined: bool) -> None:
    """In the forked child: give the step its world, run it as a child, report its end."""
    for sig in (signal.SIGCHLD, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    signal.set_wakeup_fd(-1)
    os.setsid()
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    os.close(output_fd)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    # Nothing of the server's reaches the step: not its socket, nor other steps' connections.
    os.closerange(3, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    from modules import sandbox

    try:
        sandbox.set_child_subreaper()
        if confined:
            sandbox.enter_step_namespaces(request["confine"]["folder"], tmp_mb=int(request["confine"]["tmp_mb"]))
    except OSError as exc:  # the step never ran
        print(f"atelier: the step's sandbox could not be set up: {exc}", file=sys.stderr, flush=True)
        os._exit(70)
    step = os.fork()
    if step == 0:
        if confined:
            _run_init(request)
        _become_step(request, confined=False)
    # Asked to stop (or the step is over): its processes go, whatever they call themselves.
    signal.signal(signal.SIGTERM, lambda *_: _stop_descendants(step))
    while True:
        try:
            _, wait_status = os.waitpid(step, 0)
            break
        except InterruptedError:
            continue
    _stop_descendants(step)
    status = os.waitstatus_to_exitcode(wait_status)
    if confined and status > 128:
        status = 128 - status
    sys.stdout.flush()
    sys.stderr.flush()
    if status < 0:
        # Die the way the step died, so the server reports the same signal.
        if -status not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
    os._exit(status)


def serve(path: str, *, confine: bool = False) -> None:
    from modules import sandbox  # noqa: F401 (every reaper uses it)
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
                    _stop(pid)
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
                    _run_reaper(request, output_fd, confined=confine)
                os.close(output_fd)
                conn.sendall(PID.pack(pid))
                children[pid] = conn
                selector.register(conn, selectors.EVENT_READ, pid)
            elif key.data == "child":
                try:
                    os.read(wake_r, 4096)
                except BlockingIOError:
                    pass
            elif isinstance(key.data, int):
                # The client asks to stop the step (any byte), or went away.
                selector.unregister(key.fileobj)
                _stop(key.data)
        _reap(children, selector)


def _stop(reaper: int) -> None:
    try:
        os.kill(reaper, signal.SIGTERM)
    except ProcessLookupError:
        pass


def _reap(children: dict[int, socket.socket], selector: selectors.BaseSelector) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = children.pop(pid, None)
        if conn is not None:
            try:
                selector.unregister(conn)
            except KeyError:
                pass  # already unregistered: the client asked to stop it
            try:
                conn.sendall(STATUS.pack(os.waitstatus_to_exitcode(status)))
            except OSError:
                pass  # the client went away; nothing to tell
            conn.close()


if __name__ == "__main__":
    serve(sys.argv[1], confine="--confine" in sys.argv[2:])
