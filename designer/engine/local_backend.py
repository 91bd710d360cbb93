"""The `local` compute target: each step in its own processes, forked from a warm server,
inside an OS sandbox.

Every step is forked by `modules.forkserver` from a process that has already imported
pandas, scikit-learn and the module library, so a step starts in milliseconds instead of
paying a second of imports.

Where bubblewrap works (`sandbox_unavailable()` says why not), that server runs in a
sandbox, one per set of read-only folders its steps may read (which is one per owner,
since each owner reads their own datasets): user, mount, pid, network, IPC and UTS
namespaces, a read-only view of the system, of Python and of the module code, no
environment inherited. Each step then narrows its view to its own folders and drops every
privilege (see modules.sandbox): it reaches its inputs (read-only), its output and scratch
folders, its owner's datasets and the data roots (read-only), and nothing else: not the
database, the secret key, the server's environment, the artifact store, other steps or
users, the network or other processes. rlimits bound its memory, processes, CPU time,
file sizes and open files (no cgroup is assumed). When Atelier runs as root, the sandbox
runs as an unprivileged user of its own (STEP_UID).

Without bubblewrap, steps are forked from an unconfined server with the same rlimits, as
the server's own user: `LocalBackend.sandboxed` is then false, and the server lets only
staff run user code there (the apps check it when a pipeline is validated and again when
a step starts).

This module imports nothing heavy: callers can start a server first and let its imports
overlap with their own.
"""
from __future__ import annotations

import atexit
import functools
import json
import logging
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import modules
from modules.forkserver import StepServerError, read_status, request_step
from modules.sandbox import IN_DIR, OUT_DIR, SOCKET_DIR, STEPS_DIR, WORK_DIR

from .backends import report_waiting
from .events import Waiting
from .step_errors import StepError
from .step_folders import (
    Mounts, code_environment, code_mounts, collect_outputs, confined_request, link_inputs, make_exchange, resource_mounts,
)

logger = logging.getLogger(__name__)

_STARTUP_TIMEOUT_S = 120
# How long a step asked to stop may take before its whole server is stopped instead.
_STOP_WAIT_S = 5.0
# The unprivileged user steps run as when Atelier itself runs as root (the same as in
# step containers); otherwise steps run as Atelier's own user, in a user namespace.
STEP_UID = 10001
_SOCKET_NAME = "server.sock"
# What a sandboxed server's environment holds: nothing of Atelier's (its code's path and
# packs come from code_environment()).
_SANDBOX_ENV = {
    "HOME": "/tmp", "TMPDIR": "/tmp", "MPLBACKEND": "Agg", "LANG": "C.UTF-8",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
}


@dataclass(frozen=True)
class StepLimits:
    """What one step may use (None: no limit). Memory is address space (RLIMIT_AS), so it
    counts what the warm server had mapped already (about 0.7 GB)."""

    memory_mb: int | None = 4096
    processes: int = 512
    cpu_s: int | None = 3600
    file_mb: int = 4096
    tmp_mb: int = 256
    open_files: int = 4096


class ForkServerError(RuntimeError):
    pass


# Why a step that runs its user's code is refused on local compute without a sandbox.
UNSANDBOXED_REASON = (
    "local compute on this server has no sandbox, so only staff may run code there: "
    "choose a docker compute target, or ask an administrator to install bubblewrap"
)


# -- the sandbox -------------------------------------------------------------------------------


@functools.cache
def sandbox_unavailable() -> str | None:
    """Why steps cannot be sandboxed on this machine (None: they can). Asked once: a probe
    sets up a step's sandbox for real and runs a step's confinement in it."""
    if shutil.which("bwrap") is None:
        return "bubblewrap (the bwrap command, Debian package bubblewrap) is not installed"
    scratch = Path(tempfile.mkdtemp(prefix="atelier-sandbox-probe-"))
    try:
        server = _SandboxedServer(scratch, mounts=())
        make_exchange(server.steps / "probe", owner=server.uid)
        argv = server.command(["-c", "from modules.sandbox import probe; probe('/atelier/steps/probe')"])
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=server.launch_env())
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bubblewrap does not work here: {exc}"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
        return f"bubblewrap does not work here: {detail[0]}"
    return None


def _system_binds() -> list[str]:
    """The read-only system folders (merged /usr: their links)."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(name):
            args += ["--symlink", os.readlink(name), name]
        elif os.path.isdir(name):
            args += ["--ro-bind", name, name]
    for name in ("/etc/ld.so.cache", "/etc/localtime"):
        args += ["--ro-bind-try", name, name]
    return args


def _python_folders() -> list[str]:
    """The folders that hold this Python and its installed packages (not under /usr)."""
    folders: list[str] = []
    for folder in {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}:
        if not folder.startswith("/usr/") and not any(folder.startswith(f + "/") or folder == f for f in folders):
            folders.append(folder)
    return sorted(folders)


# -- step servers ------------------------------------------------------------------------------


class _StepServer:
    """One warm server process (`modules.forkserver`) and its folder: started on first use,
    stopped when its lifeline (its standard input) closes."""

    confined = False

    def __init__(self, scratch: Path, mounts: Mounts) -> None:
        self.mounts = mounts
        self.folder = Path(tempfile.mkdtemp(prefix=f"server-{os.getpid()}-", dir=scratch))
        self.socket_path = self.folder / "sock" / _SOCKET_NAME
        (self.folder / "sock").mkdir()
        self.busy = 0
        self.last_used = time.monotonic()
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None

    def command(self, python_args: list[str]) -> list[str]:
        return [sys.executable, *python_args]

    def launch_env(self) -> dict[str, str]:
        # Only what the server needs to import the modules: none of Atelier's settings.
        return {**_SANDBOX_ENV, "PYTHONPATH": str(Path(modules.__file__).resolve().parents[1])}

    def server_socket(self) -> str:
        return str(self.socket_path)

    def start(self) -> None:
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                return
            # Importing the modules' libraries takes seconds: the step waits for it.
            report_waiting(Waiting.STEP_SERVER)
            self.socket_path.unlink(missing_ok=True)
            argv = self.command(["-m", "modules.forkserver", self.server_socket(), *(["--confine"] if self.confined else [])])
            with (self.folder / "server.log").open("ab") as log:
                # stdin is the server's lifeline: when this process ends, the server does too.
                self._process = subprocess.Popen(
                    argv, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, env=self.launch_env(),
                    start_new_session=True,
                )

    def connect(self) -> socket.socket:
        self.start()
        deadline = time.monotonic() + _STARTUP_TIMEOUT_S
        while True:
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                _connect(conn, self.socket_path)
                return conn
            except (FileNotFoundError, ConnectionRefusedError):
                conn.close()
                assert self._process is not None
                if self._process.poll() is not None:
                    raise ForkServerError(
                        f"the step server exited with code {self._process.returncode}: {self._log_tail()}"
                    ) from None
                if time.monotonic() > deadline:
                    raise ForkServerError("the step server did not start in time") from None
                time.sleep(0.02)

    def _log_tail(self) -> str:
        try:
            lines = (self.folder / "server.log").read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " / ".join(lines[-3:])

    def stop(self) -> None:
        """Stop the server and every step it runs, and remove its folder."""
        with self._lock:
            process, self._process = self._process, None
        if process is not None:
            try:
                if process.stdin is not None:
                    process.stdin.close()  # the server stops its steps and exits
                process.wait(timeout=_STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


class _SandboxedServer(_StepServer):
    """A step server in a bubblewrap sandbox; its steps' folders are under `steps`."""

    confined = True

    def __init__(self, scratch: Path, mounts: Mounts) -> None:
        super().__init__(scratch, mounts)
        self.steps = self.folder / "steps"
        self.steps.mkdir()
        self.uid = STEP_UID if os.getuid() == 0 else None
        if self.uid is not None:
            for folder in (self.folder / "sock", self.steps):
                os.chown(folder, self.uid, self.uid)
        etc = self.folder / "etc"
        etc.mkdir()
        uid, gid = (self.uid, self.uid) if self.uid is not None else (os.getuid(), os.getgid())
        (etc / "passwd").write_text(f"atelier:x:{uid}:{gid}:Atelier step:/tmp:/usr/sbin/nologin\n")
        (etc / "group").write_text(f"atelier:x:{gid}:\n")

    def server_socket(self) -> str:
        return f"{SOCKET_DIR}/{_SOCKET_NAME}"

    def command(self, python_args: list[str]) -> list[str]:
        binds: list[tuple[str, str, str]] = [  # (how, host folder, folder inside)
            *(("--ro-bind", folder, folder) for folder in _python_folders()),
            *(("--ro-bind", source, target) for source, target in code_mounts()),
            ("--ro-bind", str(self.folder / "etc" / "passwd"), "/etc/passwd"),
            ("--ro-bind", str(self.folder / "etc" / "group"), "/etc/group"),
            ("--bind", str(self.steps), STEPS_DIR),
            ("--bind", str(self.folder / "sock"), SOCKET_DIR),
            *(("--ro-bind", source, target) for source, target in self.mounts),
        ]
        staged = self.uid is not None
        args = [
            "bwrap", "--unshare-all", "--unshare-user", "--disable-userns", "--new-session", "--clearenv",
            # Only for each step's own confinement (mounts, then dropping every capability),
            # done by the server's code before any step code runs; held in the sandbox's user
            # namespace only.
            "--cap-add", "CAP_SYS_ADMIN", "--cap-add", "CAP_SETPCAP",
            "--hostname", "atelier", *_system_binds(),
            # /tmp before the binds: Python installed under /tmp stays visible above it.
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
        ]
        for index, (how, source, target) in enumerate(binds):
            args += [how, f"/tmp/stage/{index}" if staged else source, target]
        for folder in (IN_DIR, OUT_DIR, WORK_DIR):
            args += ["--dir", folder]
        args += ["--chdir", "/"]
        for name, value in {**_SANDBOX_ENV, **code_environment()}.items():
            args += ["--setenv", name, value]
        args += ["--", sys.executable, *python_args]
        if not staged:
            args[0] = shutil.which("bwrap") or "bwrap"
            return args
        # As root: the launcher stages the folders and becomes STEP_UID before bubblewrap.
        args[0] = shutil.which("bwrap") or "/usr/bin/bwrap"
        config = {"sources": [source for _, source, _ in binds], "uid": self.uid, "argv": args}
        return [sys.executable, "-m", "modules.sandbox", json.dumps(config)]


class _Servers:
    """The step servers of this process, shared by every local backend: one per kind
    (sandboxed or not) and set of read-only folders. Idle ones beyond `MAX_IDLE` go, the
    least recently used first; one idle for `IDLE_S` goes too."""

    MAX_IDLE = 4
    IDLE_S = 600.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._servers: dict[tuple[bool, str, Mounts], _StepServer] = {}
        atexit.register(self.stop_all)

    def take(self, *, confined: bool, scratch: Path, mounts: Mounts) -> _StepServer:
        key = (confined, str(scratch), mounts)
        with self._lock:
            server = self._servers.get(key)
            if server is None:
                _sweep_dead_servers(scratch)
                server = (_SandboxedServer if confined else _StepServer)(scratch, mounts)
                self._servers[key] = server
            server.busy += 1
            server.last_used = time.monotonic()
            retired = self._retire_idle()
        for old in retired:
            old.stop()
        return server

    def give(self, server: _StepServer) -> None:
        with self._lock:
            server.busy -= 1
            server.last_used = time.monotonic()

    def drop(self, server: _StepServer) -> None:
        """A server that failed: the next step starts a new one."""
        with self._lock:
            for key, known in list(self._servers.items()):
                if known is server:
                    del self._servers[key]
        server.stop()

    def _retire_idle(self) -> list[_StepServer]:
        now = time.monotonic()
        idle = sorted((s for s in self._servers.values() if s.busy == 0), key=lambda s: s.last_used)
        retired = [s for s in idle if now - s.last_used > self.IDLE_S]
        retired += [s for s in idle[: max(0, len(idle) - self.MAX_IDLE)] if s not in retired]
        for key, server in list(self._servers.items()):
            if server in retired:
                del self._servers[key]
        return retired

    def stop_all(self) -> None:
        with self._lock:
            servers = list(self._servers.values())
            self._servers.clear()
        for server in servers:
            server.stop()


_servers = _Servers()


def _sweep_dead_servers(scratch: Path) -> None:
    """Folders of servers whose Atelier process died without removing them."""
    for folder in scratch.glob("server-*-*"):
        try:
            pid = int(folder.name.split("-")[1])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not _alive(pid):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _connect(conn: socket.socket, path: Path) -> None:
    # Socket paths are limited to 107 bytes; the folder's descriptor keeps this one short
    # however deep the scratch folder is.
    folder = os.open(path.parent, os.O_PATH)
    try:
        conn.connect(f"/proc/self/fd/{folder}/{path.name}")
    finally:
        os.close(folder)


def connect_when_listening(conn: socket.socket, path: Path, *, timeout: float = 2.0) -> None:
    """Connect to a server that has bound its socket but may not listen on it yet."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            _connect(conn, path)
            return
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise StepServerError("the step server does not answer") from None
            time.sleep(0.01)


# -- steps -------------------------------------------------------------------------------------


class LocalStepHandle:
    """A step forked by a step server: its output pipe, and its status connection (which
    also stops it)."""

    def __init__(self, pid: int, conn: socket.socket, output_fd: int) -> None:
        self.pid = pid
        self._conn = conn
        self.output_fd = output_fd
        self.sentinel = conn.fileno()
        self.placement: dict[str, Any] = {"host": socket.gethostname()}
        self.stopped_for: StepError | None = None  # its limits are rlimits: the step says so itself
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
            self._code = read_status(self._conn)
        return self._code

    def kill(self) -> None:
        """Stop the step and everything it started."""
        if self.exit_code() is not None:
            return
        try:
            self._conn.send(b"!")
        except OSError:
            pass  # the server is gone, and the step with it
        deadline = time.monotonic() + _STOP_WAIT_S
        while self.exit_code() is None and time.monotonic() < deadline:
            select.select([self._conn], [], [], 0.05)
        if self._code is None:
            self._server_stuck()

    def _server_stuck(self) -> None:
        raise ForkServerError("the step server did not stop the step")

    def close(self) -> None:
        self._conn.close()
        os.close(self.output_fd)


class _ServedStepHandle(LocalStepHandle):
    """A step of a local step server; in the sandbox, its exchange folder too."""

    def __init__(
        self, server: _StepServer, pid: int, conn: socket.socket, output_fd: int, *,
        exchange: Path | None, step_dir: Path,
    ) -> None:
        super().__init__(pid, conn, output_fd)
        self._server = server
        self._exchange = exchange
        self._step_dir = step_dir
        self._closed = False
        self.placement["sandbox"] = "bubblewrap" if server.confined else "none"

    def exit_code(self) -> int | None:
        known = self._code is not None
        code = super().exit_code()
        if code is not None and not known and self._exchange is not None:
            # Nothing of the step runs any more (its reaper stopped all of it): its outputs
            # go where the executor reads them.
            collect_outputs(self._exchange / "out", self._step_dir)
        return code

    def _server_stuck(self) -> None:
        logger.error("step server %s did not stop a step in time; stopping the server", self._server.folder)
        _servers.drop(self._server)
        self._code = -signal.SIGKILL

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        super().close()
        if self._exchange is not None:
            shutil.rmtree(self._exchange, ignore_errors=True)
        _servers.give(self._server)


class LocalBackend:
    """Steps on this machine, `capacity` at once, each within `limits`; sandboxed when
    `sandbox` (None: whenever bubblewrap works here). `scratch_dir` holds the servers'
    folders: on the artifact store's filesystem, inputs are linked rather than copied."""

    name = "local"
    starts_slowly = False

    def __init__(
        self, *, capacity: int = 2, limits: StepLimits = StepLimits(), sandbox: bool | None = None,
        scratch_dir: Path | None = None,
    ) -> None:
        self.capacity = capacity
        self.limits = limits
        # Required but missing: each step fails with the reason (an infrastructure error), rather
        # than every run, whatever its compute, failing to start.
        missing = sandbox_unavailable() if sandbox else None
        self.refused = f"local steps cannot be sandboxed: {missing}" if missing else None
        self.sandboxed = sandbox_unavailable() is None if sandbox is None else sandbox
        self.scratch_dir = Path(scratch_dir) if scratch_dir is not None else _default_scratch()
        self.scratch_dir.mkdir(parents=True, exist_ok=True)

    def start(self, request: dict[str, Any], step_dir: Path) -> LocalStepHandle:
        if self.refused:
            raise ForkServerError(self.refused)
        if not self.sandboxed and request.get("user_code") and not request.get("trusted"):
            # Validation says so first; this holds even for a run recorded before.
            raise ForkServerError(f"this step runs your code, and {UNSANDBOXED_REASON}")
        limits = {k: v for k, v in asdict(self.limits).items() if v is not None}
        resources = request.get("resources") or {}
        mounts = resource_mounts(resources) if self.sandboxed else ()
        server = _servers.take(confined=self.sandboxed, scratch=self.scratch_dir, mounts=mounts)
        exchange = None
        try:
            if self.sandboxed:
                assert isinstance(server, _SandboxedServer)
                name = uuid.uuid4().hex
                exchange = server.steps / name
                make_exchange(exchange, owner=server.uid)
                link_inputs(request.get("inputs") or {}, exchange / "in")
                request = {
                    **confined_request(request), "limits": limits,
                    "confine": {"folder": f"{STEPS_DIR}/{name}", "tmp_mb": self.limits.tmp_mb},
                }
            else:
                request = {**request, "limits": limits}
            conn = server.connect()
            try:
                pid, output_fd = request_step(conn, request)
            except BaseException:
                conn.close()
                raise
        except BaseException:
            if exchange is not None:
                shutil.rmtree(exchange, ignore_errors=True)
            _servers.give(server)
            raise
        return _ServedStepHandle(server, pid, conn, output_fd, exchange=exchange, step_dir=step_dir)


@functools.cache
def _default_scratch() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="atelier-steps-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


def start_fork_server() -> None:
    """Start the warm server of the default local backend now (cheap to call again)."""
    backend = LocalBackend()
    server = _servers.take(confined=backend.sandboxed, scratch=backend.scratch_dir, mounts=())
    try:
        server.start()
    finally:
        _servers.give(server)
