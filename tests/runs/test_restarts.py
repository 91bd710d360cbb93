"""Embedded runs outlive the processes that run them: real daphne servers and `run_pipeline`
commands are SIGKILLed mid-run, and every run still ends (completed when resumed, failed as
`interrupted` when it cannot be), none stays running; WebSocket clients see the end."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from websockets.sync.client import connect

from designer.engine.events import Status
from designer.runs.models import Run, RunEvent, StepRun
from tests.cluster import ROOT, Daphne, database_url, start_daphne
from tests.distributed.conftest import slow
from tests.waiting import eventually

pytestmark = pytest.mark.django_db(transaction=True)

@dataclass
class Servers:
    """Starts daphne servers of the embedded default (no broker, in-memory channel layer)
    on the test database, and stops those still alive at the end."""

    env: dict[str, str]
    log: Path
    token: str
    started: list[Daphne]

    def start(self, **extra_env: str) -> Daphne:
        server = start_daphne({**self.env, **extra_env}, self.log)
        self.started.append(server)
        return server

    def submit(self, server: Daphne, nodes: dict[str, Any]) -> str:
        document = {"format": "atelier/pipeline@1", "name": "restarts", "nodes": nodes}
        response = requests.post(f"http://127.0.0.1:{server.port}/api/runs/", json={"pipeline": document},
                                 headers={"Authorization": f"Token {self.token}"}, timeout=30)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def cancel(self, server: Daphne, run_id: str) -> requests.Response:
        return requests.post(f"http://127.0.0.1:{server.port}/api/runs/{run_id}/cancel/",
                             headers={"Authorization": f"Token {self.token}"}, timeout=30)

    def messages(self, server: Daphne, run_id: str, *, after: int = 0, timeout: float = 90) -> list[dict[str, Any]]:
        """The run's WebSocket messages until its final state (snapshot first unless resuming)."""
        query = f"?after={after}" if after else ""
        seen = []
        deadline = time.monotonic() + timeout
        with connect(f"ws://127.0.0.1:{server.port}/ws/runs/{run_id}/{query}", origin=f"http://127.0.0.1:{server.port}",
                     additional_headers={"Authorization": f"Token {self.token}"}, open_timeout=10) as ws:
            while time.monotonic() < deadline:
                message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
                seen.append(message)
                status = message["run"]["status"] if message["type"] == "snapshot" else message.get("status")
                if message["type"] in ("snapshot", "run_status") and Status(status).terminal:
                    return seen
        raise AssertionError(f"run {run_id} did not end in {timeout} s: {seen[-5:]}")


@pytest.fixture
def servers(settings: Any, tmp_path: Path, user: Any) -> Iterator[Servers]:
    from rest_framework.authtoken.models import Token

    env = {
        "DJANGO_SETTINGS_MODULE": "designer.settings",
        "DATABASE_URL": database_url(),
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "ATELIER_DATA_DIR": str(tmp_path / "data"),
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        # A server that went silent is found within seconds, not half a minute.
        "ATELIER_HEARTBEAT_S": "1", "ATELIER_SWEEP_S": "1", "ATELIER_WORKER_LOST_AFTER_S": "8",
    }
    running = Servers(env=env, log=tmp_path / "daphne.log", token=Token.objects.create(user=user).key, started=[])
    try:
        yield running
    finally:
        for server in running.started:
            if server.process.poll() is None:
                server.stop()


def step_running(run_id: str, node: str) -> Callable[[], bool]:
    return lambda: StepRun.objects.filter(run_id=run_id, node=node, status="running").exists()


def run_ended(run_id: str) -> Callable[[], bool]:
    return lambda: Status(Run.objects.get(pk=run_id).status).terminal


def test_a_server_killed_mid_run_five_times_leaves_every_run_ended(servers: Servers) -> None:
    runs: list[str] = []
    server = servers.start()
    for kill in range(5):
        run_id = servers.submit(server, slow(4, f"run {kill}"))
        runs.append(run_id)
        eventually(step_running(run_id, "sleep"), timeout=90, what="the slow step to run")
        # A client follows the run up to here, then loses its server with it.
        with connect(f"ws://127.0.0.1:{server.port}/ws/runs/{run_id}/", origin=f"http://127.0.0.1:{server.port}",
                     additional_headers={"Authorization": f"Token {servers.token}"}, open_timeout=10) as ws:
            seen = json.loads(ws.recv(timeout=10))["seq"]
        server.kill()
        server = servers.start()

    for run_id in runs:
        eventually(run_ended(run_id), timeout=90, what=f"run {run_id} to end")
    statuses = {run_id: Run.objects.get(pk=run_id).status for run_id in runs}
    assert set(statuses.values()) == {"completed"}, statuses
    assert not Run.objects.filter(status__in=["queued", "running"]).exists()

    first = {s.node: s for s in StepRun.objects.filter(run_id=runs[0])}
    assert first["data"].status == "reused", "what ended before the kill is kept, not run again"
    assert first["sleep"].status == "completed" and first["after"].status == "completed"
    resumed = RunEvent.objects.filter(run_id=runs[0], type="step_log", payload__node="sleep")
    assert any("resumed the run" in line for event in resumed for line in event.payload["lines"])
    # Each run's events are numbered without a gap or a repeat across its servers.
    for run_id in runs:
        seqs = list(RunEvent.objects.filter(run_id=run_id).values_list("seq", flat=True))
        assert seqs == list(range(1, len(seqs) + 1))

    # The last client reconnects to the new server and gets what it missed, to the end.
    missed = servers.messages(server, runs[-1], after=seen)
    assert missed[0]["seq"] == seen + 1
    assert missed[-1]["type"] == "run_status" and missed[-1]["status"] == "completed"


def test_runs_that_cannot_be_resumed_end_as_interrupted(servers: Servers, tmp_path: Path) -> None:
    # A run of the command line, whose process is killed mid-step…
    pipeline = tmp_path / "slow.yaml"
    pipeline.write_text(yaml.safe_dump({"format": "atelier/pipeline@1", "name": "cli", "nodes": slow(60, "cli")}))
    with (tmp_path / "cli.log").open("w") as out:
        command = subprocess.Popen([sys.executable, "manage.py", "run_pipeline", str(pipeline)], cwd=ROOT,
                                   env={**os.environ, **servers.env}, stdout=out, stderr=subprocess.STDOUT)
    try:
        eventually(lambda: StepRun.objects.filter(run__source="cli", node="sleep", status="running").exists(),
                   timeout=90, what="the command's slow step to run")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(command.pid, signal.SIGKILL)
        command.wait()
    by_command = Run.objects.get(source="cli")
    # …and one of a server that does not resume runs, killed mid-step.
    server = servers.start(ATELIER_RESUME_RUNS="false")
    by_server = servers.submit(server, slow(60, "server"))
    eventually(step_running(by_server, "sleep"), timeout=90, what="the server's slow step to run")
    server.kill()
    servers.start(ATELIER_RESUME_RUNS="false")

    for run_id, says in ((by_command.pk, "the run_pipeline command"), (by_server, "ATELIER_RESUME_RUNS=false")):
        eventually(run_ended(run_id), timeout=90, what=f"run {run_id} to end")
        assert Run.objects.get(pk=run_id).status == "failed"
        steps = {s.node: s for s in StepRun.objects.filter(run_id=run_id)}
        assert steps["data"].status in ("completed", "reused"), "what ended before stays as it ended"
        for node in ("sleep", "after"):
            error = steps[node].error
            assert steps[node].status == "failed" and error["code"] == "interrupted", (node, error)
            assert error["origin"] == "infrastructure" and says in error["message"]
    assert not Run.objects.filter(status__in=["queued", "running"]).exists()


def test_a_live_server_takes_over_from_one_that_died_and_cancels_runs_of_another(servers: Servers) -> None:
    first, second = servers.start(), servers.start()
    kept = servers.submit(first, slow(12, "kept"))
    cancelled = servers.submit(first, slow(60, "cancelled"))
    eventually(step_running(kept, "sleep"), timeout=90, what="a slow step to run")
    eventually(step_running(cancelled, "sleep"), timeout=90, what="the other slow step to run")

    # Cancelled through the other server: the one running it stops it at its next heartbeat.
    assert servers.cancel(second, cancelled).status_code == 200
    eventually(run_ended(cancelled), timeout=90, what="the cancelled run to end")
    assert Run.objects.get(pk=cancelled).status == "cancelled"
    assert StepRun.objects.get(run_id=cancelled, node="sleep").status == "cancelled"

    assert not Status(Run.objects.get(pk=kept).status).terminal, "the test is too slow for its own timing"
    first.kill()
    eventually(run_ended(kept), timeout=90, what="the run of the dead server to end")
    run = Run.objects.get(pk=kept)
    assert run.status == "completed"
    assert run.driver.split("|")[2] == str(second.process.pid), "the live server finished it"
