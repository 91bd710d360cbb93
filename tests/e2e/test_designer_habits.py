"""What designer users expect of the canvas (issue 14's "Also" list): search by purpose, a
right-click menu on a module, samples that open laid out, titles without ids."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from designer.pipelines.services import pipeline_create, pipeline_from_sample
from tests.waiting import eventually

from .canvas_actions import RUN_TIMEOUT_MS, drag_module_to, expect_status, node, two_nodes
from .conftest import LIVE_DATABASE, LiveServer

pytestmark = LIVE_DATABASE


def test_the_palette_finds_modules_by_what_they_do(page: Page, server: LiveServer, user: Any) -> None:
    pipeline = pipeline_create(user=user, document=two_nodes("search"))
    page.goto(f"{server.url}/pipelines/{pipeline.pk}/")
    search = page.get_by_label("Search modules")
    found = page.get_by_label("Modules found").locator("button.palette-module")
    for query, first in [
        ("drop column", "Select Columns in Dataset"),
        ("remove duplicates", "Remove Duplicate Rows"),
        ("missing values", "Clean Missing Data"),
        ("filter rows", "Split Data"),
        ("join", "Join Data"),
        ("normalize", "Normalize Data"),
        ("one-hot", "Convert to Indicator Values"),
    ]:
        search.fill(query)
        expect(found.first).to_have_text(first)
    # A search narrows the datasets too, so the modules found are in sight.
    search.fill("normalize")
    expect(page.get_by_label("Add sample automobile-price-raw")).to_have_count(0)
    expect(found.first).to_be_in_viewport()
    search.fill("")
    expect(page.get_by_label("Add sample automobile-price-raw")).to_be_visible()


def test_nodes_show_titles_and_the_toolbar_links_to_the_api_docs(page: Page, server: LiveServer, user: Any) -> None:
    pipeline = pipeline_create(user=user, document=two_nodes("titles"))
    page.goto(f"{server.url}/pipelines/{pipeline.pk}/")
    picked = node(page, "picked")
    expect(picked).to_contain_text("Select Columns in Dataset")
    expect(picked.get_by_text("picked", exact=True)).to_have_count(0)  # the node's name is not shown
    expect(picked.locator(".module-node-name")).to_have_attribute("title", "Select Columns in Dataset (picked)")
    docs = page.get_by_role("link", name="API docs")
    expect(docs).to_have_attribute("href", "/api/docs/")
    with page.context.expect_page() as opened:
        docs.click()
    expect(opened.value).to_have_url(f"{server.url}/api/docs/")


def _menu_item(page: Page, name: str) -> Any:
    return page.get_by_role("menu").get_by_role("menuitem", name=re.compile(f"^{name}"))


def test_a_module_has_a_right_click_menu(page: Page, server: LiveServer, user: Any) -> None:
    pipeline = pipeline_create(user=user, document=two_nodes("menu"))
    page.goto(f"{server.url}/pipelines/{pipeline.pk}/")
    picked = node(page, "picked")

    # Before any run, what needs one is disabled, saying why.
    picked.locator(".module-node-title").click(button="right")
    menu = page.get_by_role("menu", name="Actions for picked")
    expect(menu).to_be_visible()
    expect(_menu_item(page, "Preview data")).to_be_disabled()
    expect(_menu_item(page, "Preview data")).to_contain_text("no run yet")
    expect(_menu_item(page, "Run from here")).to_be_disabled()
    expect(_menu_item(page, "Duplicate")).to_be_enabled()
    page.keyboard.press("Escape")
    expect(menu).to_have_count(0)
    expect(picked).to_be_focused()

    # From the keyboard: Shift+F10 on the focused module, arrows, Enter.
    picked.press("Shift+F10")
    expect(_menu_item(page, "Preview data")).to_be_focused()
    for _ in range(4):
        page.keyboard.press("ArrowDown")
    expect(_menu_item(page, "Duplicate")).to_be_focused()
    page.keyboard.press("Enter")
    expect(node(page, "select_columns")).to_be_visible()  # the copy, named after its module
    node(page, "select_columns").locator(".module-node-title").click(button="right")
    _menu_item(page, "Delete").click()
    expect(node(page, "select_columns")).to_have_count(0)
    expect(page.locator(".react-flow__node")).to_have_count(2)

    page.get_by_label("Run pipeline").click()
    expect(page.get_by_label("run status")).to_have_attribute("data-status", "completed", timeout=RUN_TIMEOUT_MS)
    page.keyboard.press("Escape")

    picked.locator(".module-node-title").click(button="right")
    _menu_item(page, "Preview data").click()
    expect(page.get_by_label("Rows of dataset")).to_be_visible()
    expect(page.get_by_label("Settings of picked")).to_be_visible()  # and it is the selected module

    picked.locator(".module-node-title").click(button="right")
    _menu_item(page, "View log").click()
    expect(page.get_by_label("Logs of picked")).to_be_visible()

    picked.locator(".module-node-title").click(button="right")
    _menu_item(page, "Visualize").click()
    expect(page.get_by_role("button", name="Show the canvas")).to_be_visible()  # the panel takes the page
    expect(page.get_by_label("Column statistics of dataset")).to_be_in_viewport()
    page.get_by_role("button", name="Show the canvas").click()

    first_run = page.get_by_label("Open the run's page").get_attribute("href")
    picked.locator(".module-node-title").click(button="right")
    _menu_item(page, "Run from here").click()
    expect(page.get_by_label("Open the run's page")).not_to_have_attribute("href", first_run or "")
    expect(page.get_by_label("run status")).to_have_attribute("data-status", "completed", timeout=RUN_TIMEOUT_MS)
    expect_status(page, "typed", "reused")
    expect_status(page, "picked", "completed")


IRIS_EDGES = [("iris", "split"), ("split", "train"), ("algorithm", "train"), ("train", "score"), ("split", "score"), ("score", "evaluate")]


def test_a_sample_without_a_layout_opens_laid_out(page: Page, server: LiveServer, user: Any) -> None:
    pipeline = pipeline_from_sample(user=user, slug="iris-multiclass")
    assert not pipeline.versions.get().document.get("layout")
    page.goto(f"{server.url}/pipelines/{pipeline.pk}/")

    def laid_out() -> bool:
        # Before, a grid in file order: train sat beside split, which it reads from.
        boxes = {n: node(page, n).bounding_box() for n in {n for edge in IRIS_EDGES for n in edge}}
        return all(
            (a := boxes[source]) is not None and (b := boxes[target]) is not None and b["y"] >= a["y"] + a["height"]
            for source, target in IRIS_EDGES
        )

    eventually(laid_out, what="every module below the modules it reads from")
    # Not an edit: nothing to undo, nothing saved for it…
    expect(page.get_by_label("Save status")).to_have_attribute("data-status", "saved")
    expect(page.get_by_label("Undo")).to_be_disabled()
    assert pipeline.versions.count() == 1
    # …but the next save keeps the places.
    page.get_by_label("Pipeline name").fill("iris, laid out")
    eventually(lambda: pipeline.versions.filter(number=2).exists(), what="the rename saved")
    layout = pipeline.versions.get(number=2).document["layout"]
    assert set(layout) == {n for edge in IRIS_EDGES for n in edge}
    assert all(layout[target]["y"] > layout[source]["y"] for source, target in IRIS_EDGES)


def test_autosave_keeps_one_version_per_editing_session(page: Page, server: LiveServer, user: Any) -> None:
    pipeline = pipeline_create(user=user, document=two_nodes("sessions"))
    page.goto(f"{server.url}/pipelines/{pipeline.pk}/")
    name = page.get_by_label("Pipeline name")
    status = page.get_by_label("Save status")
    expect(name).to_have_value("sessions")  # loaded
    for version, text in enumerate(["first", "second", "third"], start=2):
        name.fill(text)
        expect(status).to_have_text(f"All changes saved (version {version})")  # each a save of its own
    # One version for the session (each save took the place of the one before); the steps
    # between are in the undo history.
    assert list(pipeline.versions.values_list("number", flat=True)) == [4, 1]
    page.get_by_label("Undo").click()  # the name's edits are one step
    expect(name).to_have_value("sessions")
    expect(status).to_have_text("All changes saved (version 5)")

    page.reload()  # a new session: a version of its own
    expect(page.get_by_label("Pipeline name")).to_have_value("sessions")
    page.get_by_label("Pipeline name").fill("fourth")
    expect(page.get_by_label("Save status")).to_have_text("All changes saved (version 6)")
    assert list(pipeline.versions.values_list("number", flat=True)) == [6, 5, 1]


def test_the_column_statistics_fit_the_panel(page: Page, server: LiveServer, user: Any, screenshots: Path) -> None:
    pipeline = pipeline_create(user=user, document={
        "format": "atelier/pipeline@1", "name": "wide",
        "nodes": {
            "cars": {"module": "import_data", "params": {"source": "sample", "name": "automobile-price-raw"}},
            "picked": {"module": "select_columns", "inputs": {"dataset": "cars.dataset"},
                       "params": {"columns": {"include": "all"}}},
        },
        "layout": {"cars": {"x": 40, "y": 40}, "picked": {"x": 40, "y": 200}},
    })
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{server.url}/pipelines/{pipeline.pk}/")
    page.get_by_label("Run pipeline").click()
    expect(page.get_by_label("run status")).to_have_attribute("data-status", "completed", timeout=RUN_TIMEOUT_MS)
    node(page, "picked").locator(".module-node-title").click()
    statistics = page.get_by_label("Column statistics of dataset")
    expect(statistics.get_by_role("row")).to_have_count(27)  # a header and the table's 26 columns
    statistics.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "column-statistics-1280x720.png"))
    # Every statistic in sight without scrolling sideways, in the panel and in the table's box.
    overflow = statistics.evaluate(
        """(section) => [section, section.querySelector('.outputs-scroll'), section.closest('.run-panel')]
            .map((e) => e.scrollWidth - e.clientWidth)"""
    )
    assert overflow == [0, 0, 0], overflow
    box = statistics.bounding_box()
    panel = page.get_by_role("region", name="Run").bounding_box()
    assert box and panel and box["x"] + box["width"] <= panel["x"] + panel["width"]


def test_a_module_dropped_onto_a_wire_goes_into_it(page: Page, server: LiveServer, user: Any) -> None:
    document = two_nodes("insert")
    document["layout"]["picked"] = {"x": 40, "y": 420}  # a long wire to drop on
    pipeline = pipeline_create(user=user, document=document)
    page.goto(f"{server.url}/pipelines/{pipeline.pk}/")
    wire = page.get_by_test_id("rf__edge-picked.dataset").locator("path.react-flow__edge-path")
    box = wire.bounding_box()
    assert box
    drag_module_to(page, "clean_missing_data", box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    # typed → Clean Missing Data → picked: the old wire is gone, two new ones in its place.
    expect(node(page, "clean_missing_data")).to_be_visible()
    expect(page.get_by_test_id("rf__edge-clean_missing_data.dataset")).to_have_count(1)
    expect(page.get_by_test_id("rf__edge-picked.dataset")).to_have_count(1)
    expect(page.get_by_label("Save status")).to_have_attribute("data-status", "saved")

    def saved_nodes() -> dict[str, Any] | None:
        nodes = pipeline.versions.order_by("-number").first().document["nodes"]
        return nodes if "clean_missing_data" in nodes else None

    saved = eventually(saved_nodes, what="the insertion saved")
    assert saved["clean_missing_data"]["inputs"] == {"dataset": "typed.dataset"}
    assert saved["picked"]["inputs"] == {"dataset": "clean_missing_data.dataset"}

    # A module the wire cannot run through is only placed.
    box = page.get_by_test_id("rf__edge-picked.dataset").locator("path.react-flow__edge-path").bounding_box()
    assert box
    drag_module_to(page, "linear_regression", box["x"] + box["width"] / 2 + 150, box["y"] + box["height"] / 2)
    expect(node(page, "linear_regression")).to_be_visible()
    expect(page.get_by_test_id("rf__edge-picked.dataset")).to_have_count(1)
    expect(page.locator('[data-testid^="rf__edge-"]')).to_have_count(2)
