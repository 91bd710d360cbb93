"""A pipeline saved when a module was at an older version opens upgraded (with a note of what
changed), validates and runs; saves record each node's module version."""
from __future__ import annotations

import pytest

from designer.pipelines.models import Pipeline, PipelineVersion
from designer.runs import execution
from designer.runs.models import Run

pytestmark = pytest.mark.django_db

DATA = "x,y\n" + "".join(f"{i},{2 * i + (i % 3)}\n" for i in range(30))
# Saved when Evaluate Model was at version 1, which named its results columns by metric key.
SAVED = {
    "format": "atelier/pipeline@1",
    "name": "saved last year",
    "nodes": {
        "typed": {"module": "enter_data_manually", "version": 1, "params": {"data": DATA}},
        "algorithm": {"module": "linear_regression", "version": 1},
        "train": {"module": "train_model", "version": 1, "inputs": {"model": "algorithm.model", "dataset": "typed.dataset"},
                  "params": {"label_column": "y"}},
        "score": {"module": "score_model", "version": 1, "inputs": {"model": "train.model", "dataset": "typed.dataset"}},
        "evaluate": {"module": "evaluate_model", "version": 1, "inputs": {"scored": "score.dataset"}},
        "r2": {"module": "select_columns", "version": 1, "inputs": {"dataset": "evaluate.results"},
               "params": {"columns": ["coefficient_of_determination"]}},
    },
}


@pytest.fixture
def saved_last_year(user) -> Pipeline:
    # Stored as it was then: written to the database directly, as no save today would write it.
    pipeline = Pipeline.objects.create(owner=user, name=SAVED["name"], current_version=1)
    PipelineVersion.objects.create(pipeline=pipeline, number=1, document=SAVED, created_by=user)
    return pipeline


def test_an_old_pipeline_opens_upgraded_with_a_note_of_what_changed(api, saved_last_year):
    body = api.get(f"/api/pipelines/{saved_last_year.pk}/").json()
    evaluate = body["document"]["nodes"]["evaluate"]
    assert evaluate["version"] == 2 and evaluate["params"] == {"column_names": "metric_keys"}
    assert body["document"]["nodes"]["r2"] == SAVED["nodes"]["r2"]
    upgrades = {u["node"]: u for u in body["upgrades"]}
    assert set(upgrades) == {"train", "score", "evaluate"}  # the modules at version 2 today
    assert upgrades["evaluate"] == {
        "node": "evaluate", "from_module": "evaluate_model", "from_version": 1, "to_module": "evaluate_model",
        "to_version": 2, "message": "evaluate_model version 1 is now evaluate_model version 2; its params were migrated",
    }
    # The stored version is history: left as saved until the next save stores the upgrade.
    assert saved_last_year.versions.get().document == SAVED
    saved = api.put(
        f"/api/pipelines/{saved_last_year.pk}/", {"document": body["document"], "base_version": 1}, format="json"
    ).json()
    assert saved["upgrades"] == [] and saved["document"]["nodes"]["evaluate"]["version"] == 2


def test_an_old_pipeline_validates_and_runs(api, saved_last_year, store_dirs):
    check = api.post(f"/api/pipelines/{saved_last_year.pk}/validate/", {}, format="json").json()
    assert check["valid"], check["errors"]
    response = api.post("/api/runs/", {"pipeline_id": saved_last_year.pk}, format="json")
    assert response.status_code == 201, response.json()
    run = Run.objects.get(pk=response.json()["id"])
    assert run.pipeline["nodes"]["evaluate"]["version"] == 2
    execution.run_execute(run=run)
    run.refresh_from_db()
    assert run.status == "completed", {s.node: s.error for s in run.steps.all() if s.error}
    assert run.steps.get(node="evaluate").module_version == 2


def test_saves_record_the_module_version_of_each_node(api):
    document = {
        "format": "atelier/pipeline@1", "name": "new",
        "nodes": {"typed": {"module": "enter_data_manually", "params": {"data": DATA}},
                  "evaluate": {"module": "evaluate_model"}, "odd": {"module": "no_such_module"}},
    }
    body = api.post("/api/pipelines/", {"document": document}, format="json").json()
    nodes = body["document"]["nodes"]
    assert nodes["typed"]["version"] == 1 and nodes["evaluate"]["version"] == 2
    assert "version" not in nodes["odd"]  # nothing to record for a module that does not exist


def test_versions_saved_before_nodes_recorded_their_version_are_pinned_to_1(user):
    # Every built-in module was at version 1 then; which version of a pack's was is unknown.
    import importlib

    from django.apps import apps

    pin = importlib.import_module("designer.pipelines.migrations.0002_pin_module_versions").pin
    old = {
        "format": "atelier/pipeline@1", "name": "old",
        "nodes": {"evaluate": {"module": "evaluate_model"}, "pack": {"module": "acme.churn"},
                  "pinned": {"module": "split_data", "version": 1}},
    }
    pipeline = Pipeline.objects.create(owner=user, name="old", current_version=1)
    PipelineVersion.objects.create(pipeline=pipeline, number=1, document=old, created_by=user)
    pin(apps, None)
    nodes = pipeline.versions.get().document["nodes"]
    assert nodes == {"evaluate": {"module": "evaluate_model", "version": 1}, "pack": {"module": "acme.churn"},
                     "pinned": {"module": "split_data", "version": 1}}



def test_pipelines_that_shared_a_name_get_numbered_names():
    import importlib

    new_names = importlib.import_module("designer.pipelines.migrations.0003_pipeline_names_unique_per_owner").new_names
    rows = [(1, 7, "cars"), (2, 7, "cars"), (3, 7, "cars (2)"), (4, 7, "cars"), (5, 8, "cars"), (6, 7, "x" * 200), (7, 7, "x" * 200)]
    # The oldest keeps its name; "cars (2)" was taken already; another owner's names are theirs.
    assert new_names(rows) == {2: "cars (3)", 4: "cars (4)", 7: "x" * 196 + " (2)"}
