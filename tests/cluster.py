"""A scaled deployment's processes, for the tests and the server benchmark: daphne, real
Celery worker processes and beat over a real Redis broker, all sharing one database and
one artifact store."""
from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from tests.waiting import eventually

ROOT = Path(__file__).resolve().parents[1]
_LISTENING = re.compile(r"Listening on TCP address 127\.0\.0\.1:(\d+)")

# Short enough that a lost worker is found within a test's patience, long enough that a
# busy two-core machine never takes a live worker for lost.
FAST_DISPATCH = {"ATELIER_HEARTBEAT_S": "1", "ATELIER_WORKER_LOST_AFTER_S": "8", "ATELIER_SWEEP_S": "1"}


# The Redis server the tests use; another one (ATELIER_TEST_REDIS=host:port) lets two
# checkouts run their suites at once without sharing databases.
TEST_REDIS = os.environ.get("ATELIER_TEST_REDIS", "127.0.0.1:6379")


def broker_url(worker_id: str) -> str:
    """A Redis database of its own per xdist worker (the channel layers use 10 and up)."""
    number = 4 + (int(worker_id[2:]) if worker_id.startswith("gw") else 0)
    return f"redis://{TEST_REDIS}/{number}"


def point_celery_at(url: str) -> None:
    """Make this process's Celery app send to the broker at `url`."""
    from designer.celery import app

    app.conf.broker_url = url
    # The app keeps pools of connections to the broker it first spoke to: they are dropped,
    # as Celery itself drops them in a forked child.
    app._after_fork()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RedisServer:
    """A redis-server process of a test's own (no persistence: started again, it is empty),
    for tests that take the broker away."""

    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )

        def answers() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            with contextlib.suppress(redis.exceptions.ConnectionError):
                return bool(redis.Redis(port=self.port).ping())
            return False

        eventually(answers, what=f"redis-server to answer on port {self.port}")

    def stop(self) -> None:
        """Gone at once, and what it held with it (SIGKILL: no save, no goodbye to clients)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@dataclass
class Worker:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        """SIGKILL the worker and everything it started, as the kernel's OOM killer or a
        pulled plug would: no chance to clean up."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@dataclass
class Cluster:
    env: dict[str, str]
    workers: list[Worker] = field(default_factory=list)

    def worker(self, hostname: str) -> Worker:
        return next(w for w in self.workers if hostname.startswith(w.name + "@"))


def dispatch_env(*, database: str, redis_url: str, broker: str, data_dir: Path) -> dict[str, str]:
    """What every process of the deployment shares (the web server's too)."""
    return {
        "DJANGO_SETTINGS_MODULE": "designer.settings",
        "DATABASE_URL": database,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": broker,
        "ATELIER_DATA_DIR": str(data_dir),
        **FAST_DISPATCH,
    }


def _start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "designer", *argv], cwd=ROOT, env={**os.environ, **env},
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )


def _wait_for(
    pattern: str | re.Pattern[str], process: subprocess.Popen[bytes], log: Path, *, start: int = 0, timeout: float = 90
) -> re.Match[str]:
    """The first match of `pattern` in what `process` wrote to `log` after byte `start`; the
    log is in the error when the process ends first or the match never comes."""

    def written() -> str:
        return log.read_bytes()[start:].decode(errors="replace")

    def found() -> re.Match[str] | None:
        match = re.search(pattern, written())
        if match is None and process.poll() is not None:
            raise RuntimeError(f"{log.name}: the process ended before {pattern!r}:\n{written()}")
        return match

    try:
        return eventually(found, timeout=timeout, interval=0.1, what=f"{pattern!r} in {log.name}")
    except AssertionError as never:
        raise RuntimeError(f"{never}:\n{written()}") from None


@contextlib.contextmanager
def celery_cluster(
    env: dict[str, str], folder: Path, *, workers: int = 2, queues: str = "local",
    concurrency: int = 1, beat: bool = True,
) -> Iterator[Cluster]:
    """`workers` worker processes for the steps of `queues` (and beat, with a worker for
    its chores), stopped on exit, pass or fail. Each worker has its own cache of a remote
    artifact store, as it would on a machine of its own."""
    redis.Redis.from_url(env["CELERY_BROKER_URL"]).flushdb()  # no task left by an earlier test
    cluster = Cluster(env=env)
    processes = []
    try:
        for number in range(1, workers + 1):
            name = f"w{number}"
            log = folder / f"worker-{name}.log"
            process = _start([
                "worker", "-Q", queues, "--pool", "threads", "--concurrency", str(concurrency), "-n", f"{name}@%h",
                "--without-gossip", "--without-mingle", "--loglevel", "INFO",
            ], {**env, "ATELIER_ARTIFACT_CACHE": str(folder / f"artifact-cache-{name}")}, log)
            processes.append(process)
            cluster.workers.append(Worker(name, process, log))
        if beat:
            # Beat's sweep for lost workers runs on the control queue: a worker of its own
            # takes it, so the sweep goes on when every step worker is dead.
            log = folder / "worker-control.log"
            processes.append(_start([
                "worker", "-Q", "atelier.control", "--pool", "solo", "-n", "control@%h",
                "--without-gossip", "--without-mingle", "--loglevel", "INFO",
            ], env, log))
            log = folder / "beat.log"
            processes.append(_start(["beat", "--schedule", str(folder / "beat-schedule"), "--loglevel", "INFO"], env, log))
        for worker in cluster.workers:
            _wait_for(r"\bready\.", worker.process, worker.log)
        yield cluster
    finally:
        for process in processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@dataclass
class Daphne:
    """A daphne process serving on `port`."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL daphne alone, as the OOM killer or `kill -9` would: no chance to clean up.
        (Its step server sees it gone and stops the steps it forked.)"""
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        """Stop daphne and every process it started (its table workers)."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


def start_daphne(env: dict[str, str], log: Path, app: str = "designer.asgi:application") -> Daphne:
    """daphne serving the ASGI `app` on a free port of 127.0.0.1, once it listens. The log
    is appended to, so a server started again after a kill keeps the story in one file."""
    with log.open("a") as out:
        start = out.tell()
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-e", "tcp:port=0:interface=127.0.0.1", app],
            cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        listening = _wait_for(_LISTENING, process, log, start=start, timeout=60)
    except RuntimeError:
        process.kill()
        process.wait()
        raise
    return Daphne(process, int(listening.group(1)))


@contextlib.contextmanager
def daphne_process(env: dict[str, str], log: Path, app: str = "designer.asgi:application") -> Iterator[Daphne]:
    """daphne serving the ASGI `app` on a free port of 127.0.0.1; stopped on exit, pass or
    fail, with every process it started (its table workers)."""
    log.write_text("")
    server = start_daphne(env, log, app)
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def serve_daphne(env: dict[str, str], log: Path, app: str = "designer.asgi:application") -> Iterator[int]:
    """daphne serving the ASGI `app` on a free port of 127.0.0.1 (yielded); stopped on
    exit, pass or fail."""
    with daphne_process(env, log, app) as daphne:
        yield daphne.port


def database_url() -> str:
    """The test database, for the processes a test starts."""
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return f"sqlite:///{s['NAME']}"


@dataclass(frozen=True)
class Server:
    url: str  # ws://127.0.0.1:<port>
    log: Path

    @property
    def origin(self) -> str:
        # AllowedHostsOriginValidator refuses a handshake without an allowed Origin.
        return self.url.replace("ws://", "http://")


@contextlib.contextmanager
def daphne(
    app: str, settings: Any, redis_url: str, tmp_path: Path, extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    """daphne serving the ASGI `app` with the test database and a Redis channel layer
    (`settings`, pytest-django's fixture, gets the same layer)."""
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [redis_url]}}
    }
    env = {
        "DJANGO_SETTINGS_MODULE": "designer.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        # The session cookies the tests create are signed with this process's key.
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "ATELIER_DATA_DIR": str(tmp_path / "data"),
        **(extra_env or {}),
    }
    log = tmp_path / "daphne.log"
    with serve_daphne(env, log, app) as port:
        yield Server(url=f"ws://127.0.0.1:{port}", log=log)
