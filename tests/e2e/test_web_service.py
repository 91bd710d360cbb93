"""A Web Service Input wired on the canvas beside the data an input already takes: both
edges stay, the file lists both, and a run uses the data, showing the Web Service Input as
serving requests only."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from designer.pipelines.models import Pipeline, PipelineVersion

from .canvas_actions import drag_module, expect_status, node, wire
from .conftest import LIVE_DATABASE, LiveServer

pytestmark = LIVE_DATABASE


def test_wire_a_web_service_input_beside_the_data_and_run(page: Page, server: LiveServer, user: Any, screenshots: Path) -> None:
    document = {
        "format": "atelier/pipeline@1", "name": "served iris",
        "nodes": {
            "iris": {"module": "import_data", "params": {"source": "sample", "name": "iris"}},
            "select": {"module": "select_columns", "inputs": {"dataset": "iris.dataset"},
                       "params": {"columns": ["sepal length (cm)", "class"]}},
            "response": {"module": "web_service_output", "inputs": {"dataset": "select.dataset"}},
        },
        "layout": {"iris": {"x": 40, "y": 40}, "select": {"x": 40, "y": 200}, "response": {"x": 40, "y": 360}},
    }
    pipeline = Pipeline.objects.create(owner=user, name="served iris", current_version=1)
    PipelineVersion.objects.create(pipeline=pipeline, number=1, document=document, created_by=user)
    page.goto(f"{server.url}/pipelines/{pipeline.pk}/")
    expect(node(page, "select")).to_be_visible()

    drag_module(page, "web_service_input", 420, 60)
    expect(node(page, "web_service_input")).to_be_visible()
    wire(page, "web_service_input", "dataset", "select", "dataset")
    expect(page.get_by_test_id("rf__edge-select.dataset")).to_have_count(1)
    # Dashed: it carries data only when the pipeline serves.
    expect(page.get_by_test_id("rf__edge-select.dataset~web_service_input")).to_have_class(re.compile("edge-request"))
    expect(page.get_by_test_id("rf__edge-select.dataset")).not_to_have_class(re.compile("edge-request"))

    # A second Web Service Input into the same input is refused, saying why.
    drag_module(page, "web_service_input", 620, 60)
    expect(node(page, "web_service_input_2")).to_be_visible()
    wire(page, "web_service_input_2", "dataset", "select", "dataset")
    expect(page.get_by_text("already takes the Web Service Input web_service_input")).to_be_visible()
    node(page, "web_service_input_2").locator(".module-node-title").click()
    page.keyboard.press("Delete")
    expect(node(page, "web_service_input_2")).to_have_count(0)

    # The draft saves itself with the input listing both, the data first.
    expect(page.get_by_label("Save status")).to_have_attribute("data-status", "saved")
    saved = pipeline.versions.order_by("-number").first().document["nodes"]
    assert saved["select"]["inputs"] == {"dataset": ["iris.dataset", "web_service_input.dataset"]}

    page.get_by_label("Run pipeline").click()  # runs at once
    for node_id in ("iris", "select", "response"):
        expect_status(page, node_id, "completed")
    expect(page.get_by_label("run status")).to_have_attribute("data-status", "completed")
    expect_status(page, "web_service_input", "serves-requests")
    page.screenshot(path=str(screenshots / "web-service-input-beside-data.png"))
