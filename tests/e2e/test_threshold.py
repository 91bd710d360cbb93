"""A two-class model's evaluation: the lift curve, and a threshold slider whose confusion
counts and metrics follow the threshold chosen."""
from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from designer.pipelines.models import Pipeline, PipelineVersion

from .canvas_actions import expect_status, select_node
from .conftest import LIVE_DATABASE, LiveServer

pytestmark = LIVE_DATABASE


def scores_table() -> str:
    """Two overlapping classes: x is larger for 'yes', with noise, so thresholds trade
    recall for precision."""
    rng = random.Random(7)
    rows = [f"{rng.gauss(1.0 if i % 2 else 0.0, 1.0):.3f},{'yes' if i % 2 else 'no'}" for i in range(200)]
    return "x,label\n" + "\n".join(rows) + "\n"


def test_the_threshold_slider_moves_the_metrics_and_the_lift_curve_shows(
    page: Page, server: LiveServer, user: Any, screenshots: Path,
) -> None:
    document = {
        "format": "atelier/pipeline@1", "name": "two classes",
        "nodes": {
            "data": {"module": "enter_data_manually", "params": {"data": scores_table()}},
            "split": {"module": "split_data", "inputs": {"dataset": "data.dataset"}, "params": {"fraction": 0.5, "seed": 1}},
            "learner": {"module": "two_class_logistic_regression"},
            "train": {"module": "train_model", "inputs": {"model": "learner.model", "dataset": "split.first"},
                      "params": {"label_column": "label"}},
            "score": {"module": "score_model", "inputs": {"model": "train.model", "dataset": "split.second"}},
            "evaluate": {"module": "evaluate_model", "inputs": {"scored": "score.dataset"}},
        },
    }
    pipeline = Pipeline.objects.create(owner=user, name="two classes", current_version=1)
    PipelineVersion.objects.create(pipeline=pipeline, number=1, document=document, created_by=user)
    page.goto(f"{server.url}/pipelines/{pipeline.pk}/")
    page.get_by_label("Run pipeline").click()
    expect_status(page, "evaluate", "completed")

    select_node(page, "evaluate")
    page.get_by_role("button", name="Enlarge panel").click()
    expect(page.get_by_role("figure", name="Lift curve")).to_be_visible()
    at_threshold = page.get_by_role("table", name="Metrics at the threshold")
    slider = page.get_by_role("slider", name="Threshold")
    expect(at_threshold).to_be_visible()

    def true_positives() -> int:
        return int(at_threshold.locator('th:text-is("True positives") + td').inner_text())

    # Lowest threshold: every row is called positive, so every positive is found.
    slider.focus()
    page.keyboard.press("Home")
    lowest = true_positives()
    recall_at_lowest = at_threshold.locator('th:text-is("Recall") + td').inner_text()
    assert recall_at_lowest == "1", recall_at_lowest
    # Highest threshold: fewer rows called positive, fewer positives found.
    page.keyboard.press("End")
    expect(at_threshold.locator('th:text-is("True positives") + td')).not_to_have_text(str(lowest))
    assert true_positives() < lowest
    page.screenshot(path=str(screenshots / "threshold-and-lift.png"))
