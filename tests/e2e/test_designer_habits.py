"""What designer users expect of the canvas (issue 14's "Also" list): search by purpose, a
right-click menu on a module, samples that open laid out, titles without ids."""
from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from designer.pipelines.services import pipeline_create

from .canvas_actions import node
from .conftest import LIVE_DATABASE, LiveServer

pytestmark = LIVE_DATABASE


def _two_nodes(name: str) -> dict[str, Any]:
    return {
        "format": "atelier/pipeline@1", "name": name,
        "nodes": {
            "typed": {"module": "enter_data_manually", "params": {"data": "make,price\naudi,13950\nbmw,16430\n"}},
            "picked": {"module": "select_columns", "inputs": {"dataset": "typed.dataset"},
                       "params": {"columns": {"include": "all"}}},
        },
        "layout": {"typed": {"x": 40, "y": 40}, "picked": {"x": 40, "y": 200}},
    }


def test_the_palette_finds_modules_by_what_they_do(page: Page, server: LiveServer, user: Any) -> None:
    pipeline = pipeline_create(user=user, document=_two_nodes("search"))
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
    pipeline = pipeline_create(user=user, document=_two_nodes("titles"))
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
