"""Compute targets as data: the seeded `local` and `docker` targets over the API, a run
mixing them, where each step ran, and an environment whose build fails."""
from __future__ import annotations

import pytest
import yaml

from designer.compute import backends as compute_backends, selectors, services as compute_services
from designer.compute import availability
from designer.compute.models import ComputeTarget, Environment, EnvironmentStatus
from designer.engine.errors import PipelineInvalid
from designer.pipelines import validation
from designer.runs import execution, services
from designer.runs.models import Run, RunSource

from .conftest import IRIS, script

# Transactional: docker steps are started (their environment looked up and recorded) on a
# thread of their own, with a connection of its own, which must see what the test wrote.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def atelier(settings, tmp_path, env_cache, default_image):
    """This test's own store and container folders; engine backends built for it alone."""
    settings.ATELIER = {
        **settings.ATELIER, "ARTIFACT_STORE": tmp_path / "artifacts", "DATASETS_DIR": tmp_path / "datasets",
        "DOCKER_SCRATCH_DIR": tmp_path / "containers", "ENVIRONMENTS_DIR": env_cache, "DOCKER_WARM_POOL": 0,
    }
    # Backends are kept per process: the next test must get its own folders. With no warm
    # pool, each container is removed after its step (and any left at exit).
    compute_backends._docker_backend.cache_clear()
    compute_services.environment_builder.cache_clear()
    yield settings.ATELIER
    compute_backends._docker_backend.cache_clear()
    compute_services.environment_builder.cache_clear()


def run_document(nodes: dict, **settings_) -> Run:
    text = yaml.safe_dump({"format": "atelier/pipeline@1", "name": "t", "settings": settings_, "nodes": nodes})
    doc, plan = validation.pipeline_prepare(text=text)
    run = services.run_create(doc=doc, plan=plan, source=RunSource.CLI)
    execution.run_execute(run=run)
    run.refresh_from_db()
    return run


def test_the_api_lists_the_seeded_targets(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("ada"))
    targets = {t["name"]: t for t in client.get("/api/compute/").json()}
    assert targets["local"]["backend"] == "local"
    assert targets["docker"] == {**targets["docker"], "backend": "docker", "environment": "default", "available": True}
    default = client.get("/api/compute/environments/default/").json()
    assert default["name"] == "default"


def test_the_compute_api_needs_a_signed_in_user(client):
    assert client.get("/api/compute/").status_code in (401, 403)


def test_a_run_mixing_local_and_docker_nodes_records_where_each_step_ran(atelier, default_image):
    run = run_document({
        "iris": IRIS,
        "boxed": script("return dataframe1.head(10),", compute="docker"),
        "after": script("return dataframe1,", inputs="boxed.dataset1"),
    }, default_compute="local")
    steps = {s.node: s for s in run.steps.all()}
    assert run.status == "completed", {node: s.error for node, s in steps.items()}
    assert steps["iris"].compute == "local" and steps["after"].compute == "local"
    assert steps["boxed"].compute == "docker"
    assert steps["boxed"].placement["image"] == default_image
    assert len(steps["boxed"].placement["container"]) == 12
    assert steps["iris"].placement["sandbox"] == "bubblewrap" and "image" not in steps["iris"].placement
    assert steps["after"].outputs["dataset1"]["rows"] == 10
    assert Environment.objects.get(name="default").status == EnvironmentStatus.READY


def test_outputs_are_reused_only_on_the_environment_that_made_them(atelier):
    pinned = Environment.objects.create(name="pinned", requirements="six==1.16.0\n")
    ComputeTarget.objects.create(name="pinned-docker", backend="docker", environment=pinned)

    def reused_on(compute: str) -> bool:
        return run_document({"iris": IRIS}, default_compute=compute).steps.get().reused

    assert not reused_on("local") and reused_on("local")
    # Same module, params and inputs, another Python and libraries: computed again.
    assert not reused_on("docker") and reused_on("docker")
    plans = {
        compute: validation.pipeline_prepare(text=yaml.safe_dump({
            "format": "atelier/pipeline@1", "name": "t", "settings": {"default_compute": compute},
            "nodes": {"iris": IRIS},
        }))[1].steps[0].signature
        for compute in ("local", "docker", "pinned-docker")
    }
    assert len(set(plans.values())) == 3, "each environment keys its own outputs"


def test_a_failing_environment_build_fails_the_step_with_pips_message(atelier):
    broken = Environment.objects.create(name="broken", requirements="atelier-no-such-package==1.0\n")
    ComputeTarget.objects.create(name="broken-docker", backend="docker", environment=broken)
    run = run_document({"iris": IRIS}, default_compute="broken-docker")
    assert run.status == "failed"
    error = run.steps.get().error
    assert error["origin"] == "infrastructure" and error["node"] == "iris"
    assert "No matching distribution found for atelier-no-such-package==1.0" in error["message"]
    broken.refresh_from_db()
    assert broken.status == EnvironmentStatus.FAILED
    assert "No matching distribution found" in broken.build_log


def test_without_a_docker_engine_docker_steps_are_refused_with_the_reason(monkeypatch, atelier):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    selectors.docker_engine.cache_clear()
    try:
        # Targets of other kinds (the example pack's) stay; only docker's go.
        targets = availability.compute_targets()
        assert "local" in targets and "docker" not in targets
        with pytest.raises(PipelineInvalid) as caught:
            validation.pipeline_prepare(text=yaml.safe_dump({
                "format": "atelier/pipeline@1", "name": "t", "nodes": {"iris": {**IRIS, "compute": "docker"}},
            }))
        error = caught.value.errors[0]
        assert (error.code, error.node) == ("compute_unavailable", "iris")
        assert error.message == "compute 'docker' is not available: no Docker engine is reachable from this server"
    finally:
        selectors.docker_engine.cache_clear()
