"""Run feedback while a run goes on (issue 14, defect 8), on a server that executes runs
itself (the embedded default, as `make run` starts it): a completed step's outputs show at
once, not when the whole run ends, and a queued step says what it waits for."""
from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from designer.compute.models import ComputeTarget
from designer.pipelines.services import pipeline_create

from .canvas_actions import expect_status, node, select_node
from .conftest import LIVE_DATABASE, LiveServer

pytestmark = LIVE_DATABASE

SLEEPING_SCRIPT = """
import time

def azureml_main(dataframe1=None, dataframe2=None):
    time.sleep(300)
    return dataframe1,
"""


@pytest.fixture
def server_env() -> dict[str, str]:
    """No broker, no workers: the server's own dispatcher executes the runs."""
    return {}


def test_outputs_show_as_a_step_completes_and_a_queued_step_says_why(page: Page, server: LiveServer, user: Any) -> None:
    # One step at a time: `waits` (after `slow` in plan order) waits for the slot `slow` holds.
    ComputeTarget.objects.filter(name="local").update(capacity=1)
    pipeline = pipeline_create(user=user, document={
        "format": "atelier/pipeline@1", "name": "one slow step",
        "nodes": {
            "typed": {"module": "enter_data_manually", "params": {"data": "a,b\n1,2\n"}},
            "slow": {"module": "execute_python_script", "inputs": {"dataset1": "typed.dataset"},
                     "params": {"script": SLEEPING_SCRIPT}},
            "waits": {"module": "select_columns", "inputs": {"dataset": "typed.dataset"},
                      "params": {"columns": {"include": ["a"]}}},
            "after": {"module": "select_columns", "inputs": {"dataset": "slow.dataset1"},
                      "params": {"columns": {"include": ["b"]}}},
        },
        "layout": {"typed": {"x": 40, "y": 40}, "slow": {"x": 40, "y": 200}, "waits": {"x": 320, "y": 200},
                   "after": {"x": 40, "y": 360}},
    })
    page.goto(f"{server.url}/pipelines/{pipeline.pk}/")
    page.get_by_label("Run pipeline").click()
    expect_status(page, "slow", "running", timeout=60_000)

    # Its outputs were "typed has no outputs" until the whole run ended.
    select_node(page, "typed")
    outputs = page.get_by_role("region", name="Outputs of typed")
    expect(outputs.get_by_role("tab", name="dataset")).to_be_visible()
    expect(outputs).not_to_contain_text("has no outputs")

    expect(page.get_by_label("what waits waits for")).to_have_text("waiting for a free slot (other modules are running)")
    expect(page.get_by_label("what after waits for")).to_have_text("waiting for its inputs")
    expect(node(page, "slow").locator(".waiting")).to_have_count(0)  # it runs
    select_node(page, "waits")
    expect(page.get_by_label("what step waits waits for")).to_contain_text("a free slot")

    page.get_by_role("button", name="Cancel run").click()
    expect(page.get_by_label("run status")).to_have_attribute("data-status", "cancelled", timeout=60_000)
