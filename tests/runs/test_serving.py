"""pipeline_serve: a trained pipeline answers a request with the model its last run trained."""
from __future__ import annotations

import pandas as pd
import pytest
import yaml
from rest_framework.exceptions import NotFound

from designer import engine_settings
from designer.engine.errors import PipelineInvalid
from designer.engine.serving import ServingFailed
from designer.pipelines.services import pipeline_create
from designer.runs import execution, services
from designer.samples import SAMPLES_DIR
from modules.sdk.artifacts import read_table

pytestmark = pytest.mark.django_db

SAMPLE = SAMPLES_DIR / "automobile-price-web-service.yaml"
SCORED = ["Scored Labels"]


@pytest.fixture
def trained(user, store_dirs):
    """The web service sample as a saved pipeline, run once (so its model is trained)."""
    document = yaml.safe_load(SAMPLE.read_text())
    pipeline = pipeline_create(user=user, document=document)
    run = services.run_submit(user=user, document=document)
    execution.run_execute(run=run)
    run.refresh_from_db()
    assert run.status == "completed"
    assert not run.steps.filter(node="request").exists()  # not a step of a run
    score = run.steps.get(node="score")
    scored = read_table(engine_settings.artifact_store().path(score.outputs["dataset"]["artifact"]))
    return pipeline, scored


def test_a_served_request_is_scored_as_the_run_scored_the_same_rows(user, trained):
    pipeline, scored = trained
    rows = scored.iloc[[0, 5, 11]].reset_index(drop=True)
    request = rows.drop(columns=SCORED)

    answer = services.pipeline_serve(pipeline=pipeline, user=user, inputs={"WebServiceInput0": request})

    assert list(answer) == ["WebServiceOutput0"]
    response = answer["WebServiceOutput0"]
    assert len(response) == 3
    pd.testing.assert_series_equal(response["Scored Labels"], rows["Scored Labels"], check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(response.drop(columns=SCORED), request)


def test_serving_reuses_the_trained_model_and_runs_only_what_the_request_reaches(user, trained, monkeypatch):
    pipeline, scored = trained
    seen = []
    build = execution.executor_build

    def recording(on_event, user=None, placement=None):
        executor = build(on_event, user=user, placement=placement)
        run = executor.run
        executor.run = lambda plan, **kw: seen.append(result := run(plan, **kw)) or result
        return executor

    monkeypatch.setattr(services, "executor_build", recording)
    services.pipeline_serve(pipeline=pipeline, user=user, inputs={"WebServiceInput0": scored.head(2).drop(columns=SCORED)})
    steps = seen[0].steps
    assert "evaluate" not in steps and "request" not in steps
    assert {node for node, step in steps.items() if not step.reused} == {"score", "response"}
    assert steps["train"].reused


def test_a_request_that_does_not_fit_is_refused_naming_the_tables(user, trained):
    pipeline, scored = trained
    with pytest.raises(PipelineInvalid) as caught:
        services.pipeline_serve(pipeline=pipeline, user=user, inputs={"input1": scored.head(1)})
    assert {e.code for e in caught.value.errors} == {"unknown_request_input", "missing_request_input"}


def test_a_request_a_step_cannot_score_fails_with_that_steps_error(user, trained):
    pipeline, scored = trained
    with pytest.raises(ServingFailed) as caught:
        services.pipeline_serve(pipeline=pipeline, user=user, inputs={"WebServiceInput0": scored[["make"]].head(1)})
    assert list(caught.value.errors) == ["score"]


def test_another_users_pipeline_is_not_found(other_user, trained):
    pipeline, scored = trained
    with pytest.raises(NotFound):
        services.pipeline_serve(pipeline=pipeline, user=other_user, inputs={"WebServiceInput0": scored.head(1)})
