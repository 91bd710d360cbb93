"""Every runs endpoint: the owner gets it, another user gets 404 (as if it did not exist),
and an anonymous client is refused."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from designer.pipelines.models import Pipeline
from designer.runs import execution, services
from designer.runs.models import Run

from .test_api import NODES, document

pytestmark = pytest.mark.django_db


@pytest.fixture
def owned_run(user, store_dirs) -> Run:
    run = services.run_submit(user=user, document=document())
    execution.run_execute(run=run)
    assert run.status == "completed"
    return run


def endpoints(run: Run) -> list[tuple[str, str, int]]:
    """(method, url, status the owner gets) for every endpoint that names a run."""
    base = f"/api/runs/{run.pk}/"
    return [
        ("get", base, 200),
        ("get", f"{base}steps/py/logs/?tail=3", 200),
        ("get", f"{base}steps/py/metrics/", 200),
        ("get", f"{base}steps/py/images/figure_1.png", 200),
        ("get", f"{base}steps/typed/outputs/dataset/preview/", 200),
        ("get", f"{base}steps/typed/outputs/dataset/download/", 200),
        ("get", f"{base}steps/train/outputs/model/download/", 200),
        ("get", f"{base}steps/train/outputs/model/files/", 200),
        ("get", f"{base}steps/train/outputs/model/file/?path=model.skops", 200),
        ("post", f"{base}rerun/", 201),
        ("post", f"{base}rerun-from/score/", 201),
        ("post", f"{base}clone/", 201),
        ("post", f"{base}cancel/", 409),  # it has finished; the owner is told so
    ]


def test_another_user_gets_404_everywhere(api, intruder, owned_run):
    for method, url, _ in endpoints(owned_run):
        response = getattr(intruder, method)(url)
        assert response.status_code == 404, (method, url, response.status_code)
        assert response.json()["errors"][0]["code"] == "not_found"
    assert intruder.get("/api/runs/").json()["results"] == []
    # Nothing was started or changed in the owner's name.
    assert Run.objects.count() == 1 and Run.objects.get().status == "completed"
    assert not Pipeline.objects.exists()


def test_the_owner_gets_every_endpoint(api, owned_run):
    for method, url, expected in endpoints(owned_run):
        assert getattr(api, method)(url).status_code == expected, (method, url)
    assert len(api.get("/api/runs/").json()["results"]) == 3  # the run and its two reruns


def test_anonymous_clients_are_refused(owned_run):
    anonymous = APIClient()
    for method, url, _ in [*endpoints(owned_run), ("get", "/api/runs/", 200), ("post", "/api/runs/", 201)]:
        response = getattr(anonymous, method)(url)
        assert response.status_code in (401, 403), (method, url, response.status_code)
        assert response.json()["errors"]
    assert Run.objects.count() == 1


def test_runs_submitted_by_someone_else_never_list(api, user, other_user, store_dirs):
    services.run_submit(user=other_user, document=document(NODES, name="theirs"))
    mine = services.run_submit(user=user, document=document())
    assert api.get("/api/runs/?pipeline=theirs").json()["results"] == []
    assert [r["id"] for r in api.get("/api/runs/").json()["results"]] == [str(mine.pk)]


def test_a_table_output_has_no_files_to_list_or_pick(api, owned_run):
    base = f"/api/runs/{owned_run.pk}/steps/typed/outputs/dataset"
    for url in (f"{base}/files/", f"{base}/file/?path=table.parquet"):
        response = api.get(url)
        assert response.status_code == 400 and response.json()["errors"][0]["field"] == "port", url
