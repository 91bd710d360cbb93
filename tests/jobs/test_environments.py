"""A job's environment: its requirements give docker compute a target whose image is named by
their digest (built once, then reused; a changed requirement is another image); local compute
runs jobs in the server's own environment."""
from __future__ import annotations

import contextlib

import docker
import pytest
from rest_framework.test import APIClient

from designer.compute.models import ComputeTarget
from designer.compute.services import environment_builder, environment_spec
from designer.engine.job_file import load_job
from designer.jobs import services as jobs
from designer.runs import execution
from designer.runs.models import Run

from .conftest import zipped


pytestmark = pytest.mark.django_db

JOB = "format: atelier/job@1\nscript: train.py\nenvironment: {file}\ncompute: docker\n"


def image_digest(target_name: str) -> str:
    """The digest naming the image the target's steps run in (looked up, or built once)."""
    target = ComputeTarget.objects.select_related("environment").get(name=target_name)
    return environment_builder().digest(environment_spec(target.environment))


def prepared_compute(code, store_dirs, requirements: str, *, name: str = "code", file: str = "requirements.txt") -> str:
    folder = code({"train.py": "print(1)\n", file: requirements}, name=name)
    return jobs.job_prepare(doc=load_job(JOB.format(file=file)), folder=folder).job["compute"]


def test_the_same_requirements_reuse_one_environment_and_a_change_makes_another(code, store_dirs, docker_client):
    first = prepared_compute(code, store_dirs, "tabulate==0.9.0\n")
    again = prepared_compute(code, store_dirs, "# the same, written otherwise\ntabulate==0.9.0\n", name="again")
    changed = prepared_compute(code, store_dirs, "tabulate==0.8.10\n", name="changed")
    assert first == again != changed and first.startswith("docker-job-")
    assert image_digest(first) == image_digest(again) != image_digest(changed)
    target = ComputeTarget.objects.get(name=first)
    assert target.backend == "docker" and "tabulate==0.9.0" in target.environment.requirements


def test_a_conda_environment_gives_its_pip_section(code, store_dirs):
    environment = "dependencies:\n  - python=3.11\n  - pip:\n    - tabulate==0.9.0\n"
    compute = prepared_compute(code, store_dirs, environment, file="environment.yml")
    assert "tabulate==0.9.0" in ComputeTarget.objects.get(name=compute).environment.requirements


def test_local_compute_runs_jobs_in_its_own_environment(code, store_dirs):
    folder = code({"train.py": "", "requirements.txt": "tabulate==0.9.0\n"})
    doc = load_job("format: atelier/job@1\nscript: train.py\nenvironment: requirements.txt\n")
    prepared = jobs.job_prepare(doc=doc, folder=folder)
    assert prepared.job["compute"] == "local" and prepared.job["requirements"] == ["tabulate==0.9.0"]


def submitted(api, folder, requirements: str) -> str:
    (folder / "requirements.txt").write_text(requirements)
    job = "format: atelier/job@1\nname: env\nscript: train.py\nenvironment: requirements.txt\ncompute: docker\n"
    response = api.post("/api/jobs/", {"job": job, "code": zipped(folder)}, format="multipart")
    assert response.status_code == 201, response.json()
    run = Run.objects.get(pk=response.json()["id"])
    execution.run_execute(run=run)
    return str(run.pk)


# The image is asked for on the executor's starter thread, with its own database connection.
@pytest.mark.django_db(transaction=True)
def test_the_job_page_tells_its_environment_built_for_it_or_reused_and_the_build_log(
    api, other_user, code, store_dirs, docker_client,
):
    folder = code({"train.py": "import tabulate\nprint(tabulate.__version__)\n"})
    requirements = "tabulate==0.8.9\n"  # an image no other test builds: removed, so that this job builds it
    compute = prepared_compute(code, store_dirs, requirements, name="probe")
    tag = f"atelier-env:{image_digest(compute)}"
    with contextlib.suppress(docker.errors.ImageNotFound):
        docker_client.images.remove(tag, force=True)

    first = submitted(api, folder, requirements)
    body = api.get(f"/api/jobs/{first}/environment/").json()
    assert Run.objects.get(pk=first).status == "completed", Run.objects.get(pk=first).steps.get().error
    assert body["built_for_this_job"] and body["compute"] == compute
    assert body["environment"]["image_tag"] == tag and body["environment"]["status"] == "ready"
    assert "tabulate==0.8.9" in body["environment"]["requirements"] and "tabulate-0.8.9" in body["build_log"]

    again = api.get(f"/api/jobs/{submitted(api, folder, requirements)}/environment/").json()
    assert not again["built_for_this_job"] and again["environment"]["image_tag"] == tag

    intruder = APIClient()
    intruder.force_authenticate(other_user)
    assert intruder.get(f"/api/jobs/{first}/environment/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_an_environment_that_cannot_build_shows_pips_message(api, code, store_dirs, docker_client):
    folder = code({"train.py": "print(1)\n"})
    failed = submitted(api, folder, "atelier-no-such-package==0.0.1\n")
    step = Run.objects.get(pk=failed).steps.get()
    assert step.status == "failed" and "atelier-no-such-package" in step.error["message"]
    assert step.error["origin"] == "infrastructure"
    body = api.get(f"/api/jobs/{failed}/environment/").json()
    assert body["built_for_this_job"] and body["environment"]["status"] == "failed"
    assert "No matching distribution found for atelier-no-such-package==0.0.1" in body["build_log"]


def test_a_local_job_has_no_environment_of_its_own(api, code, store_dirs):
    response = api.post("/api/jobs/", {"job": "format: atelier/job@1\nscript: train.py\n",
                                       "code": zipped(code({"train.py": ""}))}, format="multipart")
    body = api.get(f"/api/jobs/{response.json()['id']}/environment/").json()
    assert body == {"compute": "local", "environment": None, "built_for_this_job": False, "build_log": ""}
