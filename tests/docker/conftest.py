"""A real Docker engine (the root's `docker_client`): the default environment's image
(built once per machine), and backends whose containers are all gone when a test ends.

Without a reachable engine these tests are skipped, except where ATELIER_REQUIRE_DOCKER=1
(CI sets it): there a missing engine fails them.
"""
from __future__ import annotations

import os
import textwrap

import pytest

from designer.engine.artifact_store import LocalArtifactStore
from designer.engine.compiler import compile_plan
from designer.engine.docker_backend import LABEL, ContainerLimits, DockerBackend
from designer.engine.events import StepLogEvent, StepStatusEvent
from designer.engine.pipeline_file import pipeline_from_data
from designer.engine.validation import validate_pipeline
from modules.sdk import default_registry

IRIS = {"module": "import_data", "params": {"source": "sample", "name": "iris"}}


@pytest.fixture
def store(tmp_path):
    return LocalArtifactStore(tmp_path / "store")


@pytest.fixture
def make_backend(docker_client, default_image, tmp_path):
    made = []

    def make(**kw):
        kw.setdefault("limits", ContainerLimits(memory_mb=512, cpus=1.0, pids=128, tmpfs_mb=64))
        kw.setdefault("warm_pool", 0)
        kw.setdefault("image", lambda: default_image)
        backend = DockerBackend(scratch_dir=tmp_path / "containers", client=docker_client, **kw)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.shutdown()
    mine = {"label": [LABEL, f"atelier.pid={os.getpid()}"]}
    assert docker_client.containers.list(all=True, filters=mine) == [], "a step container was left behind"
    folders = tmp_path / "containers"
    assert not folders.exists() or not any(folders.iterdir()), "a step container's folder was left behind"


class Recorder(list):
    def __call__(self, event):
        self.append(event)

    def statuses(self, node):
        return [e for e in self if isinstance(e, StepStatusEvent) and e.node == node]

    def logs(self, node):
        return [line for e in self if isinstance(e, StepLogEvent) and e.node == node for line in e.lines]


@pytest.fixture
def events():
    return Recorder()


def plan_of(nodes: dict, *, computes=("docker",), **settings):
    settings.setdefault("default_compute", "docker")
    doc = pipeline_from_data({"format": "atelier/pipeline@1", "name": "t", "settings": settings, "nodes": nodes})
    return compile_plan(validate_pipeline(doc, registry=default_registry(), computes=computes).require())


def script(body: str, *, inputs: str | None = "iris.dataset", **node) -> dict:
    code = "import os, sys, time\n\ndef azureml_main(dataframe1=None, dataframe2=None):\n" + textwrap.indent(
        textwrap.dedent(body).strip() + "\n", "    "
    )
    return {"module": "execute_python_script", "inputs": {"dataset1": inputs} if inputs else {},
            "params": {"script": code}, **node}
