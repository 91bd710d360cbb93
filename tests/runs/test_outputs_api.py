"""The per-class curves endpoint of the outputs panel, on a multiclass run executed here:
what it answers, what it refuses, and that only the run's owner reaches it."""
from __future__ import annotations

import pytest
import yaml
from rest_framework.test import APIClient

from designer.runs import execution, selectors, services
from designer.runs.models import Run
from designer.samples import SAMPLES_DIR
from designer.tables.previews import class_curves

pytestmark = pytest.mark.django_db


@pytest.fixture
def iris_run(user, store_dirs) -> Run:
    document = yaml.safe_load((SAMPLES_DIR / "iris-multiclass.yaml").read_text())
    run = services.run_submit(user=user, document=document)
    execution.run_execute(run=run)
    assert run.status == "completed"
    return run


def curves_url(run: Run, node: str = "score", port: str = "dataset") -> str:
    return f"/api/runs/{run.pk}/steps/{node}/outputs/{port}/class-curves/"


def test_the_owner_gets_each_class_against_the_others(api, iris_run):
    response = api.get(curves_url(iris_run))
    assert response.status_code == 200, response.json()
    body = response.json()
    _, folder = selectors.step_output(step=iris_run.steps.get(node="score"), port="dataset")
    assert body == class_curves(folder=folder)
    assert body["label"] == "class"
    assert sorted(c["class"] for c in body["classes"]) == ["setosa", "versicolor", "virginica"]
    assert sum(c["rows"] for c in body["classes"]) == iris_run.steps.get(node="score").outputs["dataset"]["rows"]
    for entry in body["classes"]:
        assert 0.5 <= entry["metrics"]["auc"] <= 1
        assert entry["roc"]["false_positive_rate"][0] == 0 and entry["roc"]["true_positive_rate"][-1] == 1


def test_what_is_not_a_multiclass_scored_table_is_refused(api, iris_run):
    for node, port in (("split", "first"), ("evaluate", "results")):  # tables, but not scored ones
        response = api.get(curves_url(iris_run, node, port))
        assert response.status_code == 400 and response.json()["errors"][0]["field"] == "port", (node, port)
        assert "multiclass scored table" in response.json()["errors"][0]["message"]
    model = api.get(curves_url(iris_run, "train", "model"))
    assert model.status_code == 400 and "not a table" in model.json()["errors"][0]["message"]
    assert api.get(curves_url(iris_run, "score", "ghost")).status_code == 404
    assert api.get(curves_url(iris_run, "ghost", "dataset")).status_code == 404


def test_only_the_owner_reaches_it(iris_run, intruder):
    response = intruder.get(curves_url(iris_run))
    assert response.status_code == 404 and response.json()["errors"][0]["code"] == "not_found"
    assert APIClient().get(curves_url(iris_run)).status_code in (401, 403)
