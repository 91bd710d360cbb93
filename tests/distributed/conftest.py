"""A scaled deployment, all real: daphne, two Celery worker processes and beat, a Redis
broker and channel layer, PostgreSQL (when DATABASE_URL points at it, as in CI)."""
from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from websockets.sync.client import connect

from designer.engine.events import Status
from designer.runs.models import Run
from tests.cluster import Cluster, Server, broker_url, celery_cluster, daphne, database_url, dispatch_env
from tests.waiting import eventually

TIMEOUT = 60
DATA = "x,y\n" + "".join(f"{i},{3 * i + i % 4}\n" for i in range(40))


def slow(seconds: float, marker: str = "") -> dict[str, Any]:
    """A pipeline whose `sleep` step takes `seconds`, printing `marker` when it starts."""
    script = (
        "import time\n\n"
        "def azureml_main(dataframe1=None, dataframe2=None):\n"
        f"    print('started {marker}', flush=True)\n"
        f"    time.sleep({seconds})\n"
        "    return dataframe1,\n"
    )
    return {
        "data": {"module": "enter_data_manually", "params": {"data": DATA}},
        "sleep": {"module": "execute_python_script", "inputs": {"dataset1": "data.dataset"},
                  "params": {"script": script}},
        "after": {"module": "select_columns", "inputs": {"dataset": "sleep.dataset1"}, "params": {"columns": ["x"]}},
    }


@dataclass
class Deployment:
    server: Server
    cluster: Cluster
    token: str

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(
            method, f"{self.server.origin}{path}", headers={"Authorization": f"Token {self.token}"}, timeout=30,
            **kwargs,
        )

    def submit(self, nodes: dict[str, Any], **body: Any) -> str:
        document = {"format": "atelier/pipeline@1", "name": "distributed", "nodes": nodes}
        response = self.api("POST", "/api/runs/", json={"pipeline": document, **body})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def events(self, run_id: str, *, after: int = 0, until: Callable[[dict[str, Any]], bool] | None = None,
               timeout: float = TIMEOUT) -> list[dict[str, Any]]:
        """Messages of the run's WebSocket (snapshot first unless resuming) until `until`
        says stop, or, by default, until the run's final state."""
        until = until or _run_ended
        query = f"?after={after}" if after else ""
        messages = []
        deadline = time.monotonic() + timeout
        with connect(f"{self.server.url}/ws/runs/{run_id}/{query}", origin=self.server.origin,
                     additional_headers={"Authorization": f"Token {self.token}"}, open_timeout=10) as ws:
            while time.monotonic() < deadline:
                message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
                messages.append(message)
                if until(message):
                    return messages
        raise AssertionError(f"run {run_id} did not get there in {timeout} s: {messages[-5:]}")


def _run_ended(message: dict[str, Any]) -> bool:
    if message["type"] == "snapshot":
        return Status(message["run"]["status"]).terminal
    return message["type"] == "run_status" and Status(message["status"]).terminal


def wait_for_run(run_id: str, timeout: float = TIMEOUT) -> Run:
    def ended() -> Run | None:
        run = Run.objects.get(pk=run_id)
        return run if Status(run.status).terminal else None

    return eventually(ended, timeout=timeout, interval=0.2, what=f"run {run_id} to end")


@pytest.fixture
def deploy(
    transactional_db: None, settings: Any, redis_url: str, tmp_path: Path, worker_id: str, user: Any,
) -> Iterator[Callable[..., contextlib.AbstractContextManager[Deployment]]]:
    """Starts a deployment whose workers take the steps of `queues`; keyword arguments are
    environment variables of all its processes."""
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=user).key

    @contextlib.contextmanager
    def start(queues: str = "local", **extra_env: str) -> Iterator[Deployment]:
        env = {
            **dispatch_env(
                database=database_url(), redis_url=redis_url, broker=broker_url(worker_id), data_dir=tmp_path / "data"
            ),
            **extra_env,
        }
        with celery_cluster(env, tmp_path, queues=queues) as cluster, daphne(
            "designer.asgi:application", settings, redis_url, tmp_path, extra_env=env
        ) as server:
            yield Deployment(server=server, cluster=cluster, token=token)

    yield start


@pytest.fixture
def deployment(deploy: Callable[..., contextlib.AbstractContextManager[Deployment]]) -> Iterator[Deployment]:
    with deploy() as running:
        yield running
