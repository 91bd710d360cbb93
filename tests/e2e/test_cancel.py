"""Cancelling a running pipeline from the canvas."""
from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from designer.pipelines.services import pipeline_create

from .canvas_actions import expect_status, select_node
from .conftest import LIVE_DATABASE, LiveServer

pytestmark = LIVE_DATABASE

SLOW_SCRIPT = """
import time

def azureml_main(dataframe1=None, dataframe2=None):
    print("sleeping", flush=True)
    time.sleep(300)
    return dataframe1,
"""


def test_cancel_a_running_pipeline(page: Page, server: LiveServer, user: Any) -> None:
    pipeline = pipeline_create(user=user, document={
        "format": "atelier/pipeline@1", "name": "slow",
        "nodes": {
            "typed": {"module": "enter_data_manually", "params": {"data": "a,b\n1,2\n"}},
            "slow": {"module": "execute_python_script", "inputs": {"dataset1": "typed.dataset"},
                     "params": {"script": SLOW_SCRIPT}},
            "after": {"module": "select_columns", "inputs": {"dataset": "slow.dataset1"},
                      "params": {"columns": {"include": "all"}}},
        },
        "layout": {"typed": {"x": 40, "y": 40}, "slow": {"x": 40, "y": 200}, "after": {"x": 40, "y": 360}},
    })
    page.goto(f"{server.url}/pipelines/{pipeline.pk}/")
    select_node(page, "slow")  # its script in the code editor
    expect(page.locator(".cm-editor")).to_contain_text("time.sleep(300)")
    page.get_by_label("Run pipeline").click()
    expect_status(page, "slow", "running", timeout=60_000)
    select_node(page, "slow")
    page.get_by_role("tab", name="Logs").click()
    expect(page.get_by_label("Logs of slow")).to_contain_text("sleeping")

    page.get_by_role("button", name="Cancel run").click()
    expect_status(page, "slow", "cancelled", timeout=60_000)
    expect(page.get_by_label("run status")).to_have_attribute("data-status", "cancelled")
    expect_status(page, "typed", "completed")
    expect(page.get_by_label("status of after", exact=True)).to_have_attribute("data-status", "cancelled")
    # The run says how many steps it cancelled, and lists its steps in graph order.
    expect(page.get_by_label("step counts")).to_have_text("1 step completed · 2 steps cancelled")
    page.keyboard.press("Escape")  # no selection: the panel lists the steps
    expect(page.get_by_label("Steps").get_by_role("button")).to_have_text(["typed", "slow", "after"])
