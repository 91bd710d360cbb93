"""End to end: a CSV uploaded through the API is what `import_data` (source: dataset) reads in
a run submitted through the runs API; Export Data in that run adds a version to the owner's
catalog; another user's run cannot see the dataset."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from designer import engine_settings
from designer.runs.dispatch import dispatcher
from designer.runs.models import Run
from tests.waiting import eventually

from .conftest import CSV, upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def threads_end_with_the_test():
    yield
    # The database is flushed after the test: no run thread may still be writing to it.
    dispatcher().join(timeout=60)


def pipeline(name: str = "cars", **extra: Any) -> dict[str, Any]:
    return {
        "format": "atelier/pipeline@1",
        "name": "from-a-dataset",
        "nodes": {
            "cars": {"module": "import_data", "params": {"source": "dataset", "name": name}},
            **extra,
        },
    }


def finished_run(api, document: dict[str, Any], timeout: float = 120, **body: Any) -> Run:
    response = api.post("/api/runs/", {"pipeline": document, **body}, format="json")
    assert response.status_code == 201, response.content
    run_id = response.json()["id"]
    eventually(
        lambda: Run.objects.get(pk=run_id).status in ("completed", "failed", "cancelled"),
        timeout=timeout, what=f"run {run_id} to end",
    )
    # The terminal status is recorded before the steps' outputs: wait for the run's thread.
    dispatcher().join(timeout=60)
    return Run.objects.get(pk=run_id)


def preview(api, run: Run, node: str) -> dict[str, Any]:
    return api.get(f"/api/runs/{run.pk}/steps/{node}/outputs/dataset/preview/", {"limit": 1000}).json()


def test_a_run_reads_the_uploaded_dataset_and_exports_into_the_owners_catalog(api, user, dataset):
    run = finished_run(api, pipeline(
        export={"module": "export_data", "inputs": {"dataset": "cars.dataset"}, "params": {"name": "cars-copy"}},
    ))
    assert run.status == "completed", list(run.steps.values("node", "status", "error"))
    table = preview(api, run, "cars")
    assert table["total_rows"] == 20 and [c["name"] for c in table["columns"]] == ["x", "y", "colour"]
    assert table["rows"][:2] == [[0, 0.5, "blue"], [1, 2.5, "red"]]
    # Export Data registered into the run owner's folder, not the shared root of CLI runs.
    exported = engine_settings.datasets_dir(user) / "cars-copy" / "v1" / "table.parquet"
    assert exported.is_file() and len(pd.read_parquet(exported)) == 20
    assert not (engine_settings.datasets_dir(None) / "cars-copy").exists()
    # …and it is listed, described and previewed like an upload.
    listed = {d["name"]: d for d in api.get("/api/datasets/").json()["results"]}
    assert listed["cars-copy"]["current_version"] == 1
    version = api.get(f"/api/datasets/{listed['cars-copy']['id']}/versions/").json()["results"][0]
    assert (version["rows"], version["columns"], version["format"]) == (20, 3, "parquet")
    assert api.get(f"/api/datasets/{listed['cars-copy']['id']}/versions/1/preview/").json()["total_rows"] == 20
    # A second run exports the next version.
    finished_run(api, pipeline(
        export={"module": "export_data", "inputs": {"dataset": "cars.dataset"}, "params": {"name": "cars-copy"}},
    ), force_rerun=True)
    assert api.get(f"/api/datasets/{listed['cars-copy']['id']}/").json()["current_version"] == 2


def test_a_new_version_is_what_latest_reads(api, dataset):
    api.post(f"/api/datasets/{dataset['id']}/versions/", {"file": upload(CSV + "99,1.5,red\n")}, format="multipart")
    assert preview(api, finished_run(api, pipeline()), "cars")["total_rows"] == 21
    pinned = pipeline()
    pinned["nodes"]["cars"]["params"]["version"] = "1"
    assert preview(api, finished_run(api, pinned), "cars")["total_rows"] == 20


def test_another_users_run_cannot_read_the_dataset(api, intruder, dataset):
    run = finished_run(intruder, pipeline())
    assert run.status == "failed"
    error = run.steps.get(node="cars").error
    assert error["code"] == "unknown_dataset" and "no dataset named 'cars'" in error["message"]


def test_cli_runs_use_the_shared_catalog(user):
    shared = engine_settings.step_resources()["datasets_dir"]
    assert shared == str(engine_settings.datasets_dir(None))
    mine = engine_settings.step_resources(user)["datasets_dir"]
    assert mine == str(engine_settings.datasets_dir(user)) and mine != shared
    # No dataset name of the shared catalog can be a user's folder.
    assert not Path(mine).is_relative_to(shared)
