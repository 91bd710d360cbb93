"""What a first-time user hit on the canvas (issue 14), each defect as the user met it."""
from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from designer.pipelines.services import pipeline_create
from designer.runs.models import Run

from .canvas_actions import expect_status, select_node
from .conftest import LIVE_DATABASE, LiveServer

pytestmark = LIVE_DATABASE


def _small(name: str) -> dict[str, Any]:
    return {
        "format": "atelier/pipeline@1", "name": name,
        "nodes": {
            "typed": {"module": "enter_data_manually", "params": {"data": "make,price\naudi,13950\nbmw,16430\n"}},
            "picked": {"module": "select_columns", "inputs": {"dataset": "typed.dataset"},
                       "params": {"columns": {"include": "all"}}},
        },
        "layout": {"typed": {"x": 40, "y": 40}, "picked": {"x": 40, "y": 200}},
    }


def _run_to_the_end(page: Page) -> None:
    page.get_by_label("Run pipeline").click()
    page.get_by_role("button", name="Submit run").click()
    expect(page.get_by_label("run status")).to_have_attribute("data-status", "completed", timeout=180_000)


def test_the_logs_of_a_finished_step_open_and_the_app_stays(page: Page, server: LiveServer, user: Any) -> None:
    # It was a white page: the logs' effect returned scrollIntoView()'s Promise as its cleanup.
    pipeline = pipeline_create(user=user, document=_small("cars"))
    page.goto(f"{server.url}/pipelines/{pipeline.pk}/")
    _run_to_the_end(page)
    select_node(page, "picked")
    page.get_by_role("tab", name="Logs").click()
    expect(page.get_by_label("Logs of picked")).to_be_visible()
    select_node(page, "typed")  # the logs follow the selection (the effect's cleanup runs)
    expect(page.get_by_label("Logs of typed")).to_be_visible()
    page.get_by_role("tab", name="Outputs").click()
    expect(page.get_by_label("Rows of dataset")).to_be_visible()
    expect(page.locator(".react-flow__pane")).to_be_visible()
    expect(page.get_by_label("Settings of typed")).to_be_visible()


def test_a_pipeline_shows_its_own_last_run_whatever_the_names(page: Page, server: LiveServer, user: Any) -> None:
    # The editor looked up "its" run by name: a renamed pipeline lost its runs, and a
    # pipeline that took the old name showed them (and Rerun reran the other pipeline).
    original = pipeline_create(user=user, document=_small("cars"))
    page.goto(f"{server.url}/pipelines/{original.pk}/")
    _run_to_the_end(page)
    run = Run.objects.get()
    page.get_by_label("Back to pipelines").click()

    pipelines = page.get_by_role("region", name="Pipelines")
    page.get_by_label("Duplicate cars", exact=True).click()
    expect(pipelines.get_by_role("link", name="cars (2)")).to_be_visible()
    page.get_by_label("Rename cars (2)").click()
    page.get_by_label("New name").fill("cars")
    page.get_by_role("button", name="Rename", exact=True).click()
    expect(page.get_by_role("dialog").get_by_role("alert")).to_have_text(
        "you already have a pipeline named 'cars': choose another name"
    )
    page.get_by_role("button", name="Cancel").click()
    page.get_by_label("Rename cars", exact=True).click()
    page.get_by_label("New name").fill("old cars")
    page.get_by_role("button", name="Rename", exact=True).click()
    page.get_by_label("Rename cars (2)").click()
    page.get_by_label("New name").fill("cars")
    page.get_by_role("button", name="Rename", exact=True).click()
    expect(pipelines.get_by_role("link", name="old cars")).to_be_visible()

    pipelines.get_by_role("link", name="old cars").click()
    expect(page.get_by_label("Open the run's page")).to_have_attribute("href", f"/runs/{run.pk}/")
    page.get_by_label("Back to pipelines").click()
    with page.expect_response(lambda response: "/api/runs/?" in response.url):
        pipelines.get_by_role("link", name="cars", exact=True).click()
    expect(page.get_by_label("Pipeline name")).to_have_value("cars")
    expect(page.get_by_role("region", name="Run")).to_have_count(0)

    # New pipeline asks for a name; one the user has already gets a number.
    page.get_by_label("Back to pipelines").click()
    page.get_by_role("button", name="New pipeline").click()
    page.get_by_role("dialog", name="New pipeline").get_by_label("Name").fill("cars")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.get_by_label("Pipeline name")).to_have_value("cars (2)")
