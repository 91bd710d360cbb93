"""A job's environment: its requirements give docker compute a target whose image is named by
their digest (built once, then reused; a changed requirement is another image); local compute
runs jobs in the server's own environment."""
from __future__ import annotations

import pytest

from designer.compute.models import ComputeTarget
from designer.compute.services import environment_builder, environment_spec
from designer.engine.job_file import load_job
from designer.jobs import services as jobs


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
