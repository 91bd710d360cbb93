"""What a user does on the canvas, as Playwright steps: drag from the palette, wire ports
with the mouse, select a node, wait for run states."""
from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator, Page, expect

RUN_TIMEOUT_MS = 180_000


def two_nodes(name: str) -> dict[str, Any]:
    """A small pipeline file: a typed table and Select Columns below it, wired."""
    return {
        "format": "atelier/pipeline@1", "name": name,
        "nodes": {
            "typed": {"module": "enter_data_manually", "params": {"data": "make,price\naudi,13950\nbmw,16430\n"}},
            "picked": {"module": "select_columns", "inputs": {"dataset": "typed.dataset"},
                       "params": {"columns": {"include": "all"}}},
        },
        "layout": {"typed": {"x": 40, "y": 40}, "picked": {"x": 40, "y": 200}},
    }


def node(page: Page, node_id: str) -> Locator:
    return page.get_by_test_id(f"rf__node-{node_id}")


def new_pipeline(page: Page, name: str) -> None:
    """From Home: New pipeline, named in its dialog; waits for the editor."""
    page.get_by_role("button", name="New pipeline").click()
    page.get_by_role("dialog", name="New pipeline").get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create", exact=True).click()
    page.wait_for_url("**/pipelines/*/")
    expect(page.get_by_label("Pipeline name")).to_have_value(name)


def drag_module(page: Page, module_id: str, x: float, y: float) -> None:
    """Drag a module from the palette and drop it at (x, y) of the canvas pane."""
    pane = page.locator(".react-flow__pane").bounding_box()
    assert pane
    drag_module_to(page, module_id, pane["x"] + x, pane["y"] + y)


def drag_module_to(page: Page, module_id: str, x: float, y: float) -> None:
    """Drag a module from the palette and drop it at (x, y) of the page."""
    item = page.locator(f'button[data-module="{module_id}"]')
    item.scroll_into_view_if_needed()
    start = item.bounding_box()
    assert start
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(x, y, steps=12)
    page.mouse.up()


def _center(locator: Locator) -> tuple[float, float]:
    box = locator.bounding_box()
    assert box, f"{locator} is not visible"
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def wire(page: Page, source: str, output: str, target: str, input_: str) -> None:
    """Drag from an output port to an input port with the mouse."""
    start = _center(page.locator(f'.react-flow__handle.source[data-nodeid="{source}"][data-handleid="{output}"]'))
    end = _center(page.locator(f'.react-flow__handle.target[data-nodeid="{target}"][data-handleid="{input_}"]'))
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=15)
    page.mouse.up()


def select_node(page: Page, node_id: str) -> None:
    # The title, not the centre: the centre may hold a state badge or a comment.
    node(page, node_id).locator(".module-node-title").click()
    expect(page.get_by_label(f"Settings of {node_id}")).to_be_visible()


def expect_status(page: Page, node_id: str, status: str, timeout: float = RUN_TIMEOUT_MS) -> None:
    expect(page.get_by_label(f"status of {node_id}", exact=True)).to_have_attribute("data-status", status, timeout=timeout)
