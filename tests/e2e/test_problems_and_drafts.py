"""What goes wrong, shown where the user looks: graph errors on their nodes, a refused
submit, a refused connection; drafts that survive a reload and a second tab; compute
chosen from the server's targets."""
from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from designer.compute.models import ComputeTarget
from designer.pipelines.models import Pipeline
from designer.pipelines.services import pipeline_create
from designer.runs.models import Run

from .canvas_actions import drag_module, node, select_node, wire
from .conftest import LIVE_DATABASE, LiveServer

pytestmark = LIVE_DATABASE


def _open(page: Page, server: LiveServer, pipeline: Pipeline) -> None:
    page.goto(f"{server.url}/pipelines/{pipeline.pk}/")
    expect(page.get_by_label("Save status")).to_have_attribute("data-status", "saved")


def test_graph_errors_show_on_their_nodes_and_refuse_the_run(page: Page, server: LiveServer, user: Any) -> None:
    pipeline = pipeline_create(user=user, document={
        "format": "atelier/pipeline@1",
        "name": "broken",
        "nodes": {
            "cars": {"module": "import_data"},
            "algorithm": {"module": "linear_regression"},
            # A table where a model belongs, and a score without its table.
            "train": {"module": "train_model", "inputs": {"model": "cars.dataset", "dataset": "cars.dataset"},
                      "params": {"label_column": "price"}},
            "score": {"module": "score_model", "inputs": {"model": "train.model"}},
        },
        "layout": {"cars": {"x": 40, "y": 40}, "algorithm": {"x": 320, "y": 40},
                   "train": {"x": 40, "y": 200}, "score": {"x": 40, "y": 360}},
    })
    _open(page, server, pipeline)

    expect(page.get_by_label("problems of train")).to_contain_text("'model' takes a UntrainedModel")
    expect(page.get_by_label("problems of score")).to_contain_text("'dataset' (DataFrame) is not connected")
    expect(page.get_by_label("problems of cars")).to_have_count(0)

    page.get_by_label("Run pipeline").click()
    refusal = page.get_by_role("dialog", name="Run the pipeline").get_by_role("alert")
    expect(refusal).to_contain_text("cannot run yet")
    expect(refusal).to_contain_text("train · model")
    expect(refusal).to_contain_text("score · dataset")
    page.get_by_role("button", name="Submit run").click()
    expect(refusal).to_contain_text("score · dataset")
    assert not Run.objects.exists()
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("dialog")).to_have_count(0)

    # The canvas refuses a wrong connection and says why.
    wire(page, "cars", "dataset", "score", "model")
    expect(page.get_by_role("alert").filter(has_text="Not connected")).to_contain_text("takes a TrainedModel")
    expect(page.get_by_test_id("rf__edge-score.model")).to_have_count(1)  # still train.model


def test_an_edit_survives_a_reload_and_a_second_tab_cannot_overwrite(page: Page, server: LiveServer, user: Any) -> None:
    pipeline = pipeline_create(user=user, document={
        "format": "atelier/pipeline@1", "name": "drafts",
        "nodes": {"cars": {"module": "import_data"}}, "layout": {"cars": {"x": 40, "y": 40}},
    })
    _open(page, server, pipeline)

    drag_module(page, "split_data", 200, 250)
    expect(node(page, "split_data")).to_be_visible()
    page.reload()  # at once: the server may not have it yet, this browser does
    expect(node(page, "split_data")).to_be_visible()
    expect(page.get_by_label("Save status")).to_have_attribute("data-status", "saved")
    pipeline.refresh_from_db()
    assert "split_data" in pipeline.versions.get(number=pipeline.current_version).document["nodes"]

    second = page.context.new_page()
    second.goto(page.url)
    expect(second.get_by_label("Save status")).to_have_attribute("data-status", "saved")

    page.get_by_label("Add Score Model").click()
    expect(page.get_by_label("Save status")).to_have_attribute("data-status", "saved")
    expect(second.get_by_role("status").filter(has_text="edited in another tab")).to_be_visible()
    second.get_by_label("Add Evaluate Model").click()
    conflict = second.get_by_role("alert", name="Save conflict")
    expect(conflict).to_be_visible()
    expect(second.get_by_label("Save status")).to_have_attribute("data-status", "conflict")
    pipeline.refresh_from_db()
    saved = pipeline.versions.get(number=pipeline.current_version).document["nodes"]
    assert "score_model" in saved and "evaluate_model" not in saved

    conflict.get_by_role("button", name="Load the saved version").click()
    expect(node(second, "score_model")).to_be_visible()
    expect(node(second, "evaluate_model")).to_have_count(0)
    second.close()


def test_compute_is_chosen_from_the_servers_targets(page: Page, server: LiveServer, user: Any) -> None:
    ComputeTarget.objects.create(name="big-memory", backend="local", description="16 GB per step", memory_mb=16_000)
    pipeline = pipeline_create(user=user, document={
        "format": "atelier/pipeline@1", "name": "where",
        "nodes": {"cars": {"module": "import_data", "params": {"source": "sample", "name": "automobile-price-raw"}},
                  # A target from another installation: kept and said, never swapped for another.
                  "clean": {"module": "clean_missing_data", "inputs": {"dataset": "cars.dataset"},
                            "compute": "their-cluster"}},
    })
    _open(page, server, pipeline)

    select_node(page, "cars")
    compute = page.get_by_label("Compute", exact=True)
    names = [o.split(":")[0].split(" ")[0] for o in compute.locator("option").all_inner_texts()]
    assert names == ["Pipeline", *ComputeTarget.objects.order_by("name").values_list("name", flat=True)], names
    expect(compute.locator("option", has_text="16 GB per step")).to_have_count(1)
    compute.select_option("big-memory")
    expect(page.get_by_label("Save status")).to_have_attribute("data-status", "saved")
    saved = pipeline.versions.order_by("-number").first().document["nodes"]
    assert saved["cars"]["compute"] == "big-memory"

    select_node(page, "clean")
    expect(compute).to_have_value("their-cluster")
    expect(compute.locator("option:checked")).to_have_text("their-cluster (not a compute target here)")
    compute.select_option("")
    expect(page.get_by_label("Save status")).to_have_attribute("data-status", "saved")
    latest = pipeline.versions.order_by("-number").first().document["nodes"]
    assert "compute" not in latest["clean"] and latest["cars"]["compute"] == "big-memory"
