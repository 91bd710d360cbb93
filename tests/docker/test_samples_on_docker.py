"""Every sample pipeline gives the same metrics on docker compute as on local compute."""
from __future__ import annotations

import pytest

from designer.engine.compiler import compile_plan
from designer.engine.events import Status
from designer.engine.executor import Executor
from designer.engine.local_backend import LocalBackend
from designer.engine.pipeline_file import load_pipeline
from designer.engine.validation import validate_pipeline
from designer.samples import SAMPLES_DIR
from modules.sdk import default_registry

SAMPLES = sorted(SAMPLES_DIR.glob("*.yaml"))


def run_on(path, compute, backends, store):
    doc = load_pipeline(path.read_text())
    doc = doc.model_copy(update={"settings": doc.settings.model_copy(update={"default_compute": compute})})
    plan = compile_plan(validate_pipeline(doc, registry=default_registry(), computes=list(backends)).require())
    # Forced: the docker run must not reuse what the local run produced.
    result = Executor(store=store, backends=backends).run(plan, force_rerun=True)
    assert result.status is Status.COMPLETED, {n: s.error for n, s in result.steps.items() if s.error}
    return result


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_a_sample_gives_the_same_metrics_on_docker_as_on_local(path, make_backend, store):
    backends = {"local": LocalBackend(capacity=2), "docker": make_backend(capacity=2, warm_pool=2)}
    local = run_on(path, "local", backends, store)
    docker = run_on(path, "docker", backends, store)
    for node, step in local.steps.items():
        assert docker.steps[node].metrics == pytest.approx(step.metrics, rel=1e-9), node
        rows = {port: out.get("rows") for port, out in step.outputs.items()}
        assert {port: out.get("rows") for port, out in docker.steps[node].outputs.items()} == rows, node
