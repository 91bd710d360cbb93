"""A pipeline saved with an older module version opens on the canvas upgraded, with a note;
a learner's trainer mode and ranges are in its inspector."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from designer.pipelines.models import Pipeline, PipelineVersion

from .canvas_actions import select_node
from .conftest import LIVE_DATABASE, LiveServer

pytestmark = LIVE_DATABASE


def test_an_old_pipeline_opens_upgraded_and_says_so(page: Page, server: LiveServer, user: Any, screenshots: Path) -> None:
    # Stored as Evaluate Model version 1 wrote it, before module versions were recorded on save.
    document = {
        "format": "atelier/pipeline@1", "name": "last year",
        "nodes": {
            "forest": {"module": "two_class_decision_forest", "version": 1},
            "evaluate": {"module": "evaluate_model", "version": 1},
        },
        "layout": {"forest": {"x": 40, "y": 40}, "evaluate": {"x": 320, "y": 40}},
    }
    pipeline = Pipeline.objects.create(owner=user, name="last year", current_version=1)
    PipelineVersion.objects.create(pipeline=pipeline, number=1, document=document, created_by=user)
    page.goto(f"{server.url}/pipelines/{pipeline.pk}/")
    expect(page.get_by_text("Upgraded to the current module versions, params migrated: evaluate (evaluate_model 1 → evaluate_model 2).")).to_be_visible()

    select_node(page, "evaluate")
    expect(page.locator('[data-param="column_names"] select')).to_have_value("metric_keys")
    select_node(page, "forest")
    expect(page.locator('[data-param="trainer_mode"] select')).to_have_value("single_parameter")
    # Ranges apply to the parameter range mode only, and show once it is chosen.
    expect(page.locator('[data-param="n_trees_range"]')).to_have_count(0)
    page.locator('[data-param="trainer_mode"] select').select_option("parameter_range")
    expect(page.locator('[data-param="n_trees_range"] input')).to_have_value("1; 8; 32")
    page.screenshot(path=str(screenshots / "upgraded-pipeline.png"))
