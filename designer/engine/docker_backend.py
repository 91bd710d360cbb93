"""The `docker` compute target: each step in its own container of its environment's image.

A step container sees only its own folders: its inputs (read-only), its output and
scratch folders, Atelier's module code (read-only) and, when the run has them, its
owner's datasets and the configured data roots (read-only). It has no network, a
read-only root filesystem with a small tmpfs at /tmp, a non-root user, no capabilities,
no new privileges, and memory, CPU and process-count limits. The Docker socket is never
mounted.

Inside runs `modules.forkserver` (the same warm server as the local target): it imports
pandas and scikit-learn, then forks the step as a fresh process, which runs the usual
step contract (`modules.sdk.runner.execute`). The step's stdout and stderr are a pipe
of this process, handed over the server's socket, so logs stream live without going
through Docker's log store.

Mounts cannot be added to a running container, so a container serves exactly one step
and is then removed. What makes it fast is that the next one is already waiting: a
small pool per image (and set of read-only resource mounts) keeps containers started
with their imports done; a step takes one, its inputs are hard-linked into the folder
mounted at /atelier/in, and a replacement warms up in the background. With no pool,
each step starts its own container ("cold").
"""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import threading
import time
import uuid
from collections import OrderedDict, deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, cast

import docker
import docker.errors
from docker.types import Mount

from modules.forkserver import request_step
from modules.sandbox import IN_DIR, OUT_DIR, WORK_DIR

from .local_backend import STEP_UID, LocalStepHandle, connect_when_listening
from .step_errors import StepError
from .step_folders import (
    Mounts, code_environment, code_mounts, collect_outputs, confined_request, link_inputs, make_exchange, resource_mounts,
)

# Where a step container finds its server's socket (its other folders are a confined
# step's, as in the local sandbox: modules.sandbox and step_folders).
SOCKET_DIR = "/atelier/sock"
LABEL = "atelier.step-container"
_SOCKET_NAME = "server.sock"
# How many (image, mounts) pools are kept warm at once; the least recently used goes.
_MAX_POOLS = 4
# Relative CPU weights (the kernel's default is 1024).
_STEP_CPU_SHARES = 1024
_STANDBY_CPU_SHARES = 2
# Docker records an OOM kill asynchronously: how long to wait for it after a step died.
_OOM_REPORT_WAIT_S = 3.0


@dataclass(frozen=True)
class ContainerLimits:
    memory_mb: int = 2048
    cpus: float = 1.0
    pids: int = 256
    tmpfs_mb: int = 256


class DockerBackendError(RuntimeError):
    """The Docker engine could not give the step a container; the message says why."""


@dataclass
class _Container:
    """A started container waiting for (or running) its one step, and its host folder."""

    id: str
    image: str
    folder: Path
    pid: int = 0  # the host's pid of the container's first process (its fork server)
    oom_counter: Path | None = None  # its memory cgroup's file that counts OOM kills

    @property
    def socket_path(self) -> Path:
        return self.folder / "sock" / _SOCKET_NAME


class DockerBackend:
    """Runs steps in containers of the image `image()` names (it may build it first: an
    environment). `scratch_dir` holds the containers' folders; on the artifact store's
    filesystem, inputs are hard-linked rather than copied."""

    # A container to start, perhaps an environment to build first: the executor starts
    # these steps off its thread, so that the others go on meanwhile.
    starts_slowly = True
    sandboxed = True

    def __init__(
        self,
        *,
        image: Callable[[], str],
        scratch_dir: Path,
        name: str = "docker",
        capacity: int = 2,
        limits: ContainerLimits = ContainerLimits(),
        warm_pool: int = 1,
        client: docker.DockerClient | None = None,
        start_timeout: float = 120.0,
    ) -> None:
        self.name = name
        self.capacity = capacity
        self.limits = limits
        self.warm_pool = warm_pool
        self.start_timeout = start_timeout
        self._image = image
        self.scratch_dir = Path(scratch_dir)
        self.client = client or docker.from_env()
        self._user = f"{STEP_UID}:{STEP_UID}" if os.getuid() == 0 else f"{os.getuid()}:{os.getgid()}"
        self._labels = {LABEL: "1", "atelier.host": socket.gethostname(), "atelier.pid": str(os.getpid())}
        self._lock = threading.Lock()
        self._pools: OrderedDict[tuple[str, Mounts], deque[Future[_Container]]] = OrderedDict()
        self._workers = ThreadPoolExecutor(max_workers=2, thread_name_prefix=f"atelier-{name}")
        self._closed = False
        self._remove_orphans()
        atexit.register(self.shutdown)

    # -- the ComputeBackend protocol --------------------------------------------------

    def start(self, request: dict[str, Any], step_dir: Path) -> "DockerStepHandle":
        image = self._image()
        resources = request.get("resources") or {}
        mounts = resource_mounts(resources)
        warm, box = self._take(image, mounts)
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            link_inputs(request.get("inputs") or {}, box.folder / "in")
            connect_when_listening(conn, box.socket_path)
            # The container's own limits apply, not the local target's.
            pid, output_fd = request_step(conn, {k: v for k, v in confined_request(request).items() if k != "limits"})
        except BaseException:
            conn.close()
            self._retire(box)
            raise
        return DockerStepHandle(self, box, pid, conn, output_fd, step_dir, warm=warm)

    def warm(self, resources: dict[str, Any] | None = None) -> None:
        """Fill the pool for steps with these resources now and wait until it is ready
        (e.g. when a server starts, so that its first steps need not wait)."""
        key = (self._image(), resource_mounts(resources or {}))
        with self._lock:
            pool = self._pools.setdefault(key, deque())
            self._refill(key, pool)
            waiting = list(pool)
        for future in waiting:
            future.exception()

    # -- containers -------------------------------------------------------------------

    def _take(self, image: str, mounts: Mounts) -> tuple[bool, _Container]:
        """A ready container for this image and mounts (and whether it was already warm),
        topping its pool up in the background."""
        key = (image, mounts)
        with self._lock:
            pool = self._pools.setdefault(key, deque())
            self._pools.move_to_end(key)
            waiting = pool.popleft() if pool else None
            self._refill(key, pool)
            evicted = list(self._pools.items())[:-_MAX_POOLS]
            for old_key, old_pool in evicted:
                del self._pools[old_key]
        for _, old_pool in evicted:
            for future in old_pool:
                future.add_done_callback(self._retire_future)
        if waiting is not None:
            was_ready = waiting.done()
            try:
                box = waiting.result()
            except DockerBackendError:
                pass  # that container failed to start; start one for this step below
            else:
                if self._promote(box):
                    return was_ready, box
                self._retire(box)
        return False, self._launch(image, mounts)

    def _refill(self, key: tuple[str, Mounts], pool: deque[Future[_Container]]) -> None:
        while len(pool) < self.warm_pool and not self._closed:
            pool.append(self._workers.submit(self._launch, *key, standby=True))

    def _promote(self, box: _Container) -> bool:
        """A standby container gets its full share of CPU for its step; False when it is
        gone (stopped meanwhile)."""
        try:
            self.client.api.update_container(box.id, cpu_shares=_STEP_CPU_SHARES)
        except docker.errors.APIError:
            return False
        return True

    def _launch(self, image: str, mounts: Mounts, *, standby: bool = False) -> _Container:
        """A started container, its imports done. A `standby` one (warming up for the pool)
        gets the CPU only when running steps leave some: warming replacements must not slow
        the steps of the run that took their predecessors."""
        folder = self.scratch_dir / uuid.uuid4().hex
        owner = STEP_UID if os.getuid() == 0 else None
        make_exchange(folder, owner=owner)
        (folder / "sock").mkdir()
        if owner is not None:
            os.chown(folder / "sock", owner, owner)
        binds = [
            Mount(IN_DIR, str(folder / "in"), type="bind", read_only=True),
            Mount(OUT_DIR, str(folder / "out"), type="bind"),
            Mount(WORK_DIR, str(folder / "work"), type="bind"),
            Mount(SOCKET_DIR, str(folder / "sock"), type="bind"),
            *(Mount(target, source, type="bind", read_only=True) for source, target in code_mounts()),
            *(Mount(target, source, type="bind", read_only=True) for source, target in mounts),
        ]
        limits = self.limits
        try:
            container = self.client.containers.run(
                image,
                ["python", "-m", "modules.forkserver", f"{SOCKET_DIR}/{_SOCKET_NAME}"],
                detach=True,
                # The server exits when its stdin closes; kept open, it lives until removed.
                stdin_open=True,
                mounts=binds,
                working_dir=WORK_DIR,
                user=self._user,
                environment={"HOME": "/tmp", "TMPDIR": "/tmp", "MPLBACKEND": "Agg", **code_environment()},
                network_mode="none",
                read_only=True,
                tmpfs={"/tmp": f"size={limits.tmpfs_mb}m,mode=1777"},
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                ipc_mode="private",
                mem_limit=f"{limits.memory_mb}m",
                memswap_limit=f"{limits.memory_mb}m",
                nano_cpus=int(limits.cpus * 1e9),
                pids_limit=limits.pids,
                cpu_shares=_STANDBY_CPU_SHARES if standby else _STEP_CPU_SHARES,
                labels=self._labels,
            )
        except docker.errors.ImageNotFound as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise DockerBackendError(f"the image {image} does not exist on the Docker engine") from exc
        except docker.errors.APIError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise DockerBackendError(f"the Docker engine could not start a container: {exc.explanation or exc}") from exc
        # A started container always has an id (the stubs allow None, for unsaved models).
        box = _Container(cast(str, container.id), image, folder)
        try:
            self._wait_ready(box, container)
            box.pid = self.client.api.inspect_container(box.id)["State"]["Pid"]
            box.oom_counter = _oom_counter(box.pid)
        except BaseException:
            self._retire(box)
            raise
        return box

    def _wait_ready(self, box: _Container, container: Any) -> None:
        deadline = time.monotonic() + self.start_timeout
        next_check = time.monotonic() + 0.5
        while not box.socket_path.exists():
            now = time.monotonic()
            if now > deadline:
                raise DockerBackendError(f"the step container did not start within {self.start_timeout:g} s")
            if now > next_check:
                container.reload()
                if container.status not in ("created", "running"):
                    tail = container.logs(tail=20).decode(errors="replace").strip()
                    raise DockerBackendError(f"the step container exited while starting:\n{tail}")
                next_check = now + 0.5
            time.sleep(0.01)

    def _stop_processes(self, box: _Container) -> None:
        """Stop everything running in the container, now. Killing the first process of its
        pid namespace makes the kernel kill the rest, and is much faster than asking the
        engine; the engine is asked when that process is not ours to signal."""
        try:
            # Unless that pid is still the container's (it may have ended, and its pid be
            # another process's now), only the engine can tell what to stop.
            if box.id not in Path(f"/proc/{box.pid}/cgroup").read_text():
                self._kill(box)
                return
            os.kill(box.pid, signal.SIGKILL)
        except (FileNotFoundError, PermissionError):
            self._kill(box)
            return
        # It turns zombie only once every other process of its namespace is gone.
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            try:
                if Path(f"/proc/{box.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return
            except (FileNotFoundError, ProcessLookupError):
                return
            time.sleep(0.001)

    def _kill(self, box: _Container) -> None:
        try:
            self.client.api.kill(box.id)
        except docker.errors.APIError:
            pass  # already stopped or gone

    def _retire(self, box: _Container) -> None:
        """Remove a used container and its folder, in the background."""
        if self._closed:
            self._remove(box)
        else:
            self._workers.submit(self._remove, box)

    def _retire_future(self, future: Future[_Container]) -> None:
        if future.exception() is None:
            self._retire(future.result())

    def _remove(self, box: _Container) -> None:
        try:
            self.client.api.remove_container(box.id, force=True)
        except docker.errors.NotFound:
            pass
        shutil.rmtree(box.folder, ignore_errors=True)

    def _remove_orphans(self) -> None:
        """Containers left by an Atelier process of this host that died without removing them."""
        host = self._labels["atelier.host"]
        mine: dict[str, str | list[str] | bool] = {"label": [LABEL, f"atelier.host={host}"]}
        for container in self.client.containers.list(all=True, filters=mine, ignore_removed=True):
            pid = int(container.labels.get("atelier.pid", "0"))
            if pid and not _alive(pid):
                try:
                    container.remove(force=True)
                except docker.errors.APIError:
                    # Gone, or being removed: Atelier processes starting together (a server's
                    # workers) sweep the same orphans. A step must not fail over a cleanup.
                    pass

    def oom_killed(self, box: _Container) -> bool:
        """Whether the kernel killed a process of the container for its memory limit: its
        memory cgroup counts it at once; the engine's flag, read when the cgroup is gone
        (the container stopped), comes asynchronously."""
        try:
            counts = dict(line.split() for line in box.oom_counter.read_text().splitlines()) if box.oom_counter else {}
        except OSError:
            counts = {}
        if counts.get("oom_kill", "0") != "0":
            return True
        if counts:
            return False
        deadline = time.monotonic() + _OOM_REPORT_WAIT_S
        while True:
            try:
                state = self.client.api.inspect_container(box.id)["State"]
            except docker.errors.NotFound:
                return False
            if state.get("OOMKilled"):
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)

    def shutdown(self) -> None:
        """Remove every container of this backend (the warm ones too)."""
        with self._lock:
            self._closed = True
            pools = list(self._pools.values())
            self._pools.clear()
        self._workers.shutdown(wait=True)
        for pool in pools:
            for future in pool:
                if future.exception() is None:
                    self._remove(future.result())


class DockerStepHandle(LocalStepHandle):
    """A step forked inside its container: output and exit status come straight from the
    server in the container (as for local steps); stopping it stops the container."""

    def __init__(
        self, backend: DockerBackend, box: _Container, pid: int, conn: socket.socket, output_fd: int,
        step_dir: Path, *, warm: bool,
    ) -> None:
        super().__init__(pid, conn, output_fd)
        self._backend = backend
        self._box = box
        self._step_dir = step_dir
        self._killed = False
        self._final: int | None = None
        self.placement = {"image": box.image, "container": box.id[:12], "warm": warm}

    def exit_code(self) -> int | None:
        if self._final is None:
            code = super().exit_code()
            if code is None:
                return None
            self._collect(code)
            self._final = code
        return self._final

    def _collect(self, code: int) -> None:
        """Bring the step's outputs to where the executor reads them; say so when the step
        was stopped for using more memory than its limit."""
        # Read before the container stops: its memory cgroup goes with it.
        oom = code == -signal.SIGKILL and not self._killed and self._backend.oom_killed(self._box)
        # Whatever the step left running must not write into its outputs once collected.
        self._backend._stop_processes(self._box)
        collect_outputs(self._box.folder / "out", self._step_dir)
        if oom:
            self.stopped_for = StepError.memory_limit(self._backend.limits.memory_mb)

    def kill(self) -> None:
        self._killed = True
        self._backend._kill(self._box)

    def close(self) -> None:
        super().close()
        self._backend._retire(self._box)


def _oom_counter(pid: int) -> Path | None:
    """The file of `pid`'s memory cgroup with its `oom_kill` count (cgroup v1 or v2)."""
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return Path("/sys/fs/cgroup/memory") / path.lstrip("/") / "memory.oom_control"
        if controllers == "":
            return Path("/sys/fs/cgroup") / path.lstrip("/") / "memory.events"
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
