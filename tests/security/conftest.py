"""A hostile ordinary user, Mallory, and the people she would harm: Victor (another user with a
dataset and an artifact of his own) and the server itself. Every run goes through the API
and the embedded dispatcher, on local compute (the sandbox) or docker compute (a real engine)."""
from __future__ import annotations

import io
import os
import textwrap
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest
from django.conf import settings as django_settings

from designer import engine_settings
from designer.compute import backends as compute_backends
from designer.datasets.services import dataset_upload
from designer.engine.local_backend import sandbox_unavailable
from designer.runs.dispatch import dispatcher
from designer.runs.models import Run, RunEvent
from tests.conftest import client_for
from tests.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]
IRIS = {"module": "import_data", "params": {"source": "sample", "name": "iris"}}
# Set before any step server of this process starts: no step may see it.
CANARY = f"canary-{uuid.uuid4().hex}"
os.environ["ATELIER_TEST_CANARY"] = CANARY


@pytest.fixture(params=["local", "docker"])
def compute(request: pytest.FixtureRequest, settings: Any, tmp_path: Path) -> str:
    """Every hostile test runs on both compute targets (docker needs the engine and its image)."""
    settings.ATELIER = {
        **settings.ATELIER, "ARTIFACT_STORE": tmp_path / "artifacts", "DATASETS_DIR": tmp_path / "datasets",
        "DOCKER_SCRATCH_DIR": tmp_path / "containers", "DOCKER_WARM_POOL": 0,
    }
    if request.param == "local" and sandbox_unavailable():
        if os.environ.get("ATELIER_LOCAL_SANDBOX") == "required":
            pytest.fail(f"no sandbox for local steps: {sandbox_unavailable()}")
        pytest.skip(f"no sandbox for local steps: {sandbox_unavailable()}")
    if request.param == "docker":
        request.getfixturevalue("default_image")
        settings.ATELIER = {**settings.ATELIER, "ENVIRONMENTS_DIR": request.getfixturevalue("env_cache")}
        compute_backends._docker_backend.cache_clear()
    return str(request.param)


@pytest.fixture(autouse=True)
def runs_end_with_the_test() -> Iterator[None]:
    yield
    dispatcher().join(timeout=120)  # the database is flushed after the test


@pytest.fixture
def mallory(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("mallory", password="not-used")


@pytest.fixture
def victor(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("victor", password="not-used")


def submit(user: Any, nodes: dict[str, Any], **settings_: Any) -> str:
    document = {"format": "atelier/pipeline@1", "name": "p", "settings": settings_, "nodes": nodes}
    response = client_for(user).post("/api/runs/", {"pipeline": document}, format="json")
    assert response.status_code == 201, response.json()
    return str(response.json()["id"])


def finished(run_id: str, *, timeout: float = 300) -> Run:
    return eventually(
        lambda: Run.objects.filter(pk=run_id, status__in=("completed", "failed", "cancelled")).first(),
        timeout=timeout, what=f"run {run_id} to end",
    )


def logs(run: Run, node: str) -> list[str]:
    return [
        line for payload in RunEvent.objects.filter(run=run, type="step_log").values_list("payload", flat=True)
        if payload["node"] == node for line in payload["lines"]
    ]


def script(body: str, *, inputs: str | None = "iris.dataset", **node: Any) -> dict[str, Any]:
    code = "import os, sys, time\n\ndef azureml_main(dataframe1=None, dataframe2=None):\n" + textwrap.indent(
        textwrap.dedent(body).strip() + "\n", "    "
    )
    return {"module": "execute_python_script", "inputs": {"dataset1": inputs} if inputs else {},
            "params": {"script": code}, **node}


# What probes may call: a C call that says 0 when it worked.
_PROBE_HELPERS = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
def worked(result):
    if result != 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return "it worked"
def environments_with(text):
    found = []
    for pid in os.listdir("/proc"):
        try:
            if pid.isdigit() and text in open(f"/proc/{pid}/environ", "rb").read():
                found.append(pid)
        except OSError:
            pass
    return found
"""


def probes(attempts: dict[str, str]) -> dict[str, Any]:
    """A script trying each expression and printing `PROBE name: blocked …` when it raises,
    `PROBE name: LEAK …` when it returns something."""
    lines = _PROBE_HELPERS.strip().splitlines()
    for name, expression in attempts.items():
        lines += [
            "try:",
            f"    found = {expression}",
            f"    print({'PROBE ' + name + ': '!r} + ('LEAK ' + repr(found)[:300] if found else 'blocked (nothing)'), flush=True)",
            "except BaseException as exc:",
            f"    print({'PROBE ' + name + ': blocked ('!r} + type(exc).__name__ + ': ' + str(exc)[:200] + ')', flush=True)",
        ]
    lines.append("return dataframe1,")
    return script("\n".join(lines))


def probe_results(run: Run, node: str = "hostile") -> dict[str, str]:
    found = {}
    for line in logs(run, node):
        if line.startswith("PROBE "):
            name, _, outcome = line[len("PROBE "):].partition(": ")
            found[name] = outcome
    return found


@pytest.fixture
def victims_things(victor: Any, compute: str) -> dict[str, Path]:
    """Victor's uploaded dataset, and an artifact of his run in the shared store."""
    version = dataset_upload(user=victor, file=io.BytesIO(b"secret,value\nvictor,42\n"), filename="private.csv")
    table = engine_settings.datasets_dir(victor) / "private" / f"v{version.number}" / "table.parquet"
    run = finished(submit(victor, {"mine": {**IRIS, "params": {"source": "sample", "name": "wine"}}}))
    assert run.status == "completed"
    digest = run.steps.get(node="mine").outputs["dataset"]["artifact"]
    artifact = engine_settings.artifact_store().path(digest) / "table.parquet"
    return {"table": table, "datasets": table.parents[2], "artifact": artifact,
            "store": Path(django_settings.ATELIER["ARTIFACT_STORE"])}
