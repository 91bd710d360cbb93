"""The tutorial, as an analyst does it: build the automobile price pipeline from an empty
draft with the mouse, set its params in the inspector, run it (at once, one click), read the
evaluation; run it again with the options dialog and see everything reused."""
from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from designer.runs.models import Run

from .conftest import LIVE_DATABASE
from .canvas_actions import drag_module, expect_status, new_pipeline, node, select_node, wire

pytestmark = LIVE_DATABASE

NODES = [
    # module, drop point on the canvas pane (two columns, top to bottom)
    ("import_data", 130, 40),
    ("select_columns", 130, 150),
    ("clean_missing_data", 130, 260),
    ("split_data", 130, 370),
    ("linear_regression", 430, 370),
    ("train_model", 330, 480),
    ("score_model", 130, 590),
    ("evaluate_model", 430, 600),
]
EDGES = [
    ("import_data", "dataset", "select_columns", "dataset"),
    ("select_columns", "dataset", "clean_missing_data", "dataset"),
    ("clean_missing_data", "dataset", "split_data", "dataset"),
    ("linear_regression", "model", "train_model", "model"),
    ("split_data", "first", "train_model", "dataset"),
    ("train_model", "model", "score_model", "model"),
    ("split_data", "second", "score_model", "dataset"),
    ("score_model", "dataset", "evaluate_model", "scored"),
]


def test_build_the_automobile_pipeline_by_hand_run_it_and_run_it_again(page: Page, screenshots: Path) -> None:
    new_pipeline(page, "Automobile prices")

    for module, x, y in NODES:
        drag_module(page, module, x, y)
        expect(node(page, module)).to_be_visible()
    for source, output, target, input_ in EDGES:
        wire(page, source, output, target, input_)
        expect(page.get_by_test_id(f"rf__edge-{target}.{input_}")).to_have_count(1)

    # Column pickers list the upstream columns, known before anything has run.
    select_node(page, "select_columns")
    page.get_by_label("Columns: which columns").select_option("all")
    page.get_by_label("Exclude column normalized-losses").check()
    select_node(page, "clean_missing_data")
    page.get_by_label("Mode", exact=True).select_option("remove_row")
    select_node(page, "split_data")
    page.get_by_label("Fraction").fill("0.7")
    select_node(page, "train_model")
    label_column = page.get_by_label("Label column")
    expect(label_column.locator('option[value="price"]')).to_have_count(1)
    label_column.select_option("price")
    expect(page.get_by_label("problems of train_model")).to_have_count(0)

    page.get_by_label("Run pipeline").click()
    for module, _, _ in NODES:
        expect_status(page, module, "completed")
    expect(page.get_by_label("run status")).to_have_attribute("data-status", "completed")
    page.get_by_role("button", name="Auto-layout").click()
    page.wait_for_timeout(500)  # the layout animates nothing, but the fit runs on the next frame
    page.screenshot(path=str(screenshots / "canvas-finished-run.png"))

    select_node(page, "score_model")
    expect(page.get_by_label("Rows of dataset")).to_be_visible()
    page.get_by_role("button", name="Enlarge panel").click()
    page.screenshot(path=str(screenshots / "output-preview.png"))
    page.get_by_role("button", name="Show the canvas").click()

    select_node(page, "evaluate_model")
    r2 = page.locator('th[title="coefficient_of_determination"] + td')
    expect(r2).to_be_visible()
    assert float(r2.inner_text()) >= 0.8
    page.get_by_role("button", name="Enlarge panel").click()
    expect(page.get_by_label("Charts of", exact=False).first).to_be_visible()
    page.screenshot(path=str(screenshots / "evaluation-charts.png"))
    page.get_by_role("button", name="Show the canvas").click()

    # Run ran at once; its dialog is in Run's menu, filled with what the last run used.
    page.get_by_label("More ways to run").click()
    page.get_by_role("menuitem", name="Run with options…").click()
    dialog = page.get_by_role("dialog", name="Run the pipeline")
    expect(dialog.get_by_label("Compute")).to_have_value(Run.objects.get().compute)
    expect(dialog.get_by_label("Force every module to run again")).not_to_be_checked()
    dialog.get_by_role("button", name="Submit run").click()
    for module, _, _ in NODES:
        expect_status(page, module, "reused")
    expect(node(page, "train_model")).to_contain_text("outputs reused from an earlier run")

    # A past run opens with its final states.
    page.get_by_label("Open the run's page").click()
    page.wait_for_url("**/runs/*/")
    for module, _, _ in NODES:
        expect_status(page, module, "reused")

    # Rerun from a node: it and what is downstream run again, what is upstream is reused.
    first_run_page = page.url
    select_node(page, "train_model")
    page.get_by_role("button", name="Rerun from train_model").click()
    page.wait_for_url(lambda url: url != first_run_page and "/runs/" in url)
    for module in ("train_model", "score_model", "evaluate_model"):
        expect_status(page, module, "completed")
    for module in ("import_data", "select_columns", "clean_missing_data", "split_data", "linear_regression"):
        expect_status(page, module, "reused")

    page.get_by_label("Back to pipelines").click()
    runs = page.get_by_role("region", name="Runs")
    expect(runs.get_by_role("row").filter(has_text="Automobile prices")).to_have_count(3)
    expect(runs.get_by_text("completed")).to_have_count(3)
    # Newest first: rerun from train_model, the run that reused everything, the first run.
    steps = len(NODES)
    expect(runs.locator("tbody tr td:nth-child(3)")).to_have_text(
        [f"{steps} steps · {steps - 3} reused", f"{steps} steps · {steps} reused", f"{steps} steps"]
    )
    page.screenshot(path=str(screenshots / "home.png"))
