"""What a first-time user hit on the canvas (issue 14), each defect as the user met it."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from designer.pipelines.services import pipeline_create
from designer.runs.models import Run
from modules.builtin.samples import SAMPLE_NAMES
from tests.waiting import eventually

from .canvas_actions import expect_status, node, select_node, two_nodes
from .conftest import LIVE_DATABASE, LiveServer

pytestmark = LIVE_DATABASE


def _run_to_the_end(page: Page) -> None:
    page.get_by_label("Run pipeline").click()
    expect(page.get_by_label("run status")).to_have_attribute("data-status", "completed", timeout=180_000)


def test_the_logs_of_a_finished_step_open_and_the_app_stays(page: Page, server: LiveServer, user: Any) -> None:
    # It was a white page: the logs' effect returned scrollIntoView()'s Promise as its cleanup.
    pipeline = pipeline_create(user=user, document=two_nodes("cars"))
    page.goto(f"{server.url}/pipelines/{pipeline.pk}/")
    _run_to_the_end(page)
    select_node(page, "picked")
    page.get_by_role("tab", name="Logs").click()
    expect(page.get_by_label("Logs of picked")).to_be_visible()
    select_node(page, "typed")  # the logs follow the selection (the effect's cleanup runs)
    expect(page.get_by_label("Logs of typed")).to_be_visible()
    page.get_by_role("tab", name="Outputs").click()
    expect(page.get_by_label("Rows of dataset")).to_be_visible()
    # A table downloads as CSV too, for a spreadsheet.
    csv = page.get_by_label("Download dataset as CSV").get_attribute("href")
    assert csv
    download = page.request.get(f"{server.url}{csv}")
    assert download.ok and download.text().splitlines() == ["make,price", "audi,13950", "bmw,16430"]
    expect(page.locator(".react-flow__pane")).to_be_visible()
    expect(page.get_by_label("Settings of typed")).to_be_visible()


def test_a_pipeline_shows_its_own_last_run_whatever_the_names(page: Page, server: LiveServer, user: Any) -> None:
    # The editor looked up "its" run by name: a renamed pipeline lost its runs, and a
    # pipeline that took the old name showed them (and Rerun reran the other pipeline).
    original = pipeline_create(user=user, document=two_nodes("cars"))
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


def test_module_help_shows_formatted_beside_the_palette_and_in_the_inspector(page: Page, server: LiveServer, user: Any) -> None:
    # It was clipped by the palette's scrolling list, and showed raw Markdown.
    pipeline = pipeline_create(user=user, document={
        "format": "atelier/pipeline@1", "name": "help", "nodes": {"cars": {"module": "import_data"}},
    })
    page.goto(f"{server.url}/pipelines/{pipeline.pk}/")
    page.get_by_label("Help for Import Data").click()
    popover = page.get_by_role("dialog", name="Import Data")
    expect(popover.locator("li strong").first).to_have_text("sample")
    expect(popover).not_to_contain_text("**")
    box = popover.bounding_box()
    assert box
    # What is drawn at the popover's middle is the popover, not whatever clipped it.
    assert page.evaluate(
        "([x, y]) => !!document.elementFromPoint(x, y)?.closest('.help-popover')",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    page.keyboard.press("Escape")
    expect(popover).to_have_count(0)

    select_node(page, "cars")
    page.get_by_text("About Import Data").click()
    about = page.get_by_label("About Import Data")
    expect(about.locator("li")).to_have_count(4)
    expect(about).not_to_contain_text("**")


def _chain(name: str, length: int) -> dict[str, Any]:
    """A column of `length` modules, laid out top to bottom."""
    nodes: dict[str, Any] = {"typed": {"module": "enter_data_manually", "params": {"data": "make,price\naudi,13950\n"}}}
    for n in range(1, length):
        nodes[f"pick{n}"] = {"module": "select_columns", "inputs": {"dataset": f"{list(nodes)[-1]}.dataset"},
                             "params": {"columns": {"include": "all"}}}
    return {"format": "atelier/pipeline@1", "name": name, "nodes": nodes,
            "layout": {node: {"x": 40, "y": 40 + 160 * i} for i, node in enumerate(nodes)}}


def _inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (outer["x"] <= inner["x"] and inner["x"] + inner["width"] <= outer["x"] + outer["width"]
            and outer["y"] <= inner["y"] and inner["y"] + inner["height"] <= outer["y"] + outer["height"])


def _apart(a: dict[str, float], b: dict[str, float]) -> bool:
    return (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
            or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def test_the_run_panel_makes_room_and_every_module_stays_in_view(page: Page, server: LiveServer, user: Any) -> None:
    # At 1280×720 the panel covered the lower modules, and the minimap covered others.
    page.set_viewport_size({"width": 1280, "height": 720})
    pipeline = pipeline_create(user=user, document=_chain("tall", 5))
    page.goto(f"{server.url}/pipelines/{pipeline.pk}/")
    _run_to_the_end(page)
    expect(page.get_by_role("region", name="Run")).to_be_visible()

    def in_view() -> bool:
        canvas = page.get_by_label("Pipeline canvas").bounding_box()
        minimap = page.locator(".react-flow__minimap").bounding_box()
        boxes = [box for box in (page.locator(".react-flow__node").nth(i).bounding_box() for i in range(5)) if box]
        return bool(canvas and minimap and len(boxes) == 5
                    and all(_inside(box, canvas) and _apart(box, minimap) for box in boxes))

    eventually(in_view, what="every module inside the canvas and clear of the minimap, with the run panel open")
    run_panel = page.get_by_role("region", name="Run").bounding_box()
    canvas = page.get_by_label("Pipeline canvas").bounding_box()
    assert run_panel and canvas and _apart(run_panel, canvas)


def test_modules_added_by_click_land_where_there_is_room(page: Page, server: LiveServer, user: Any) -> None:
    # They all landed on the same spot, hiding each other.
    pipeline = pipeline_create(user=user, name="clicks")
    page.goto(f"{server.url}/pipelines/{pipeline.pk}/")
    for _ in range(4):
        page.locator('button[data-module="select_columns"]').click()
    nodes = page.locator(".react-flow__node")
    expect(nodes).to_have_count(4)
    canvas = page.get_by_label("Pipeline canvas").bounding_box()
    boxes = [nodes.nth(i).bounding_box() for i in range(4)]
    assert canvas and all(boxes)
    assert all(_inside(box, canvas) for box in boxes if box)
    assert all(_apart(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:] if a and b)


def test_upload_advice_matches_the_cause_and_messages_go(page: Page, server: LiveServer, user: Any, tmp_path: Path) -> None:
    # An empty file was advised to "see Reading options"; error messages piled up over the buttons.
    pipeline = pipeline_create(user=user, name="uploads")
    page.goto(f"{server.url}/pipelines/{pipeline.pk}/")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    toasts = page.locator(".toast")
    for _ in range(3):
        with page.expect_response(lambda response: "/api/datasets/" in response.url and response.request.method == "POST"):
            page.get_by_label("Upload dataset").set_input_files(str(empty))
        expect(toasts.filter(has_text="The upload of empty.csv failed")).to_have_count(1)
    expect(toasts).to_have_count(1)
    expect(toasts).to_contain_text("The file is empty: choose the file that holds the table.")
    expect(toasts).not_to_contain_text("Reading options")
    expect(page.locator("details.upload-options")).not_to_have_attribute("open", "")
    expect(toasts).to_have_count(0, timeout=30_000)


def test_the_inspector_speaks_in_the_users_words(page: Page, server: LiveServer, user: Any) -> None:
    # It showed raw values (remove_row, ${{parameters.train_fraction}}), fields that did not
    # apply (Url for a sample), and "param 'columns' is required".
    pipeline = pipeline_create(user=user, document={
        "format": "atelier/pipeline@1", "name": "words",
        "parameters": {"train_fraction": {"type": "float", "default": 0.7}},
        "nodes": {
            "cars": {"module": "import_data"},
            "pick": {"module": "select_columns", "inputs": {"dataset": "cars.dataset"}},
            "clean": {"module": "clean_missing_data", "inputs": {"dataset": "cars.dataset"}},
            "split": {"module": "split_data", "inputs": {"dataset": "clean.dataset"},
                      "params": {"fraction": "${{parameters.train_fraction}}"}},
        },
        "layout": {"cars": {"x": 40, "y": 40}, "pick": {"x": 320, "y": 200},
                   "clean": {"x": 40, "y": 200}, "split": {"x": 40, "y": 360}},
    })
    page.goto(f"{server.url}/pipelines/{pipeline.pk}/")
    expect(page.get_by_label("problems of pick")).to_contain_text("Columns is required: choose its columns")

    select_node(page, "cars")
    source = page.get_by_label("Source", exact=True)
    expect(source.locator("option:checked")).to_have_text("A sample dataset")
    expect(page.get_by_label("Url", exact=True)).to_have_count(0)
    source.select_option("url")
    expect(page.get_by_label("Url", exact=True)).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_count(0)

    select_node(page, "clean")
    mode = page.get_by_label("Mode", exact=True)
    expect(mode.locator('option[value="remove_row"]')).to_have_text("Remove entire row")
    expect(page.get_by_label("Replacement value", exact=True)).to_be_visible()
    mode.select_option("remove_row")
    expect(page.get_by_label("Replacement value", exact=True)).to_have_count(0)

    select_node(page, "split")
    fraction = page.locator('[data-param="fraction"]')
    expect(fraction).to_contain_text("Pipeline parameter: train_fraction (0.7)")
    fraction.get_by_role("button", name="Set a value here instead").click()
    expect(page.get_by_label("Fraction", exact=True)).to_be_editable()


def test_code_opens_in_a_wide_editor_with_the_input_columns_beside_it(page: Page, server: LiveServer, user: Any) -> None:
    # Code was squeezed into the inspector's 330 px, which scrolled sideways while typing.
    pipeline = pipeline_create(user=user, document={
        "format": "atelier/pipeline@1", "name": "code",
        "nodes": {
            "cars": {"module": "import_data"},  # a sample: its columns are known before a run
            "script": {"module": "execute_python_script", "inputs": {"dataset1": "cars.dataset"}},
        },
        "layout": {"cars": {"x": 40, "y": 40}, "script": {"x": 40, "y": 200}},
    })
    page.goto(f"{server.url}/pipelines/{pipeline.pk}/")
    select_node(page, "script")
    page.get_by_role("button", name="Open in a wide editor").click()
    dialog = page.get_by_role("dialog", name="Script")
    box = dialog.bounding_box()
    assert box and box["width"] >= 900
    columns = dialog.get_by_label("Input columns")
    for column in ("make", "price"):
        expect(columns.locator("li").filter(has=page.locator("code", has_text=re.compile(f"^{column}$")))).to_have_count(1)
    dialog.locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\n# written wide")
    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_have_count(0)
    expect(page.get_by_label("Inspector").locator(".cm-editor")).to_contain_text("# written wide")
    assert page.get_by_label("Inspector").evaluate("(inspector) => inspector.scrollWidth <= inspector.clientWidth")


def test_dragging_an_output_into_empty_space_offers_the_modules_that_take_it(page: Page, server: LiveServer, user: Any) -> None:
    # Fewer actions: one drag and one choice place a module and wire it.
    pipeline = pipeline_create(user=user, document={
        "format": "atelier/pipeline@1", "name": "offer",
        "nodes": {"cars": {"module": "import_data"}}, "layout": {"cars": {"x": 40, "y": 40}},
    })
    page.goto(f"{server.url}/pipelines/{pipeline.pk}/")
    handle = page.locator('.react-flow__handle.source[data-nodeid="cars"][data-handleid="dataset"]').bounding_box()
    assert handle
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(handle["x"], handle["y"] + 160, steps=15)
    page.mouse.up()
    offer = page.get_by_role("dialog", name="Modules that take cars.dataset")
    expect(offer.get_by_role("button", name="Train Model")).to_be_visible()
    expect(offer.get_by_role("button", name="Linear Regression")).to_have_count(0)  # it takes no table
    # Searched by what it does, as in the palette: the best match first.
    offer.get_by_label("Search modules to connect").fill("impute")
    expect(offer.get_by_role("listitem").first).to_have_text("Clean Missing Data")
    offer.get_by_role("button", name="Clean Missing Data").click()
    expect(offer).to_have_count(0)
    expect(page.get_by_test_id("rf__edge-clean_missing_data.dataset")).to_have_count(1)
    box = node(page, "clean_missing_data").bounding_box()
    assert box and box["y"] > handle["y"] + 100  # where the drag ended, below its source


SLEEPING_SCRIPT = """
import time

def azureml_main(dataframe1=None, dataframe2=None):
    time.sleep(300)
    return dataframe1,
"""


def test_a_step_without_progress_reports_shows_how_long_it_has_run(page: Page, server: LiveServer, user: Any) -> None:
    # A progress bar sat at 0 % for as long as the step ran.
    pipeline = pipeline_create(user=user, document={
        "format": "atelier/pipeline@1", "name": "slow",
        "nodes": {
            "typed": {"module": "enter_data_manually", "params": {"data": "a,b\n1,2\n"}},
            "slow": {"module": "execute_python_script", "inputs": {"dataset1": "typed.dataset"},
                     "params": {"script": SLEEPING_SCRIPT}},
        },
        "layout": {"typed": {"x": 40, "y": 40}, "slow": {"x": 40, "y": 200}},
    })
    page.goto(f"{server.url}/pipelines/{pipeline.pk}/")
    page.get_by_label("Run pipeline").click()
    expect_status(page, "slow", "running", timeout=60_000)
    elapsed = page.get_by_label("running time of slow")
    expect(elapsed).to_contain_text("running for")
    expect(elapsed).not_to_have_text("running for 0 s")  # it counts
    expect(page.get_by_label("progress of slow")).to_have_count(0)
    page.get_by_role("button", name="Cancel run").click()
    expect(page.get_by_label("run status")).to_have_attribute("data-status", "cancelled", timeout=60_000)


def test_sample_datasets_are_in_the_palette_and_picked_in_import_data(page: Page, server: LiveServer, user: Any) -> None:
    # Samples could be picked nowhere: Import Data's name was a free-text box.
    pipeline = pipeline_create(user=user, name="samples")
    page.goto(f"{server.url}/pipelines/{pipeline.pk}/")
    datasets = page.get_by_role("group").filter(has=page.get_by_text("Datasets", exact=True)).first
    expect(datasets.get_by_role("button", name="Add sample iris")).to_be_visible()
    datasets.get_by_role("button", name="Add sample iris").click()
    select_node(page, "import_data")
    expect(page.get_by_label("Source", exact=True).locator("option:checked")).to_have_text("A sample dataset")
    name = page.get_by_label("Name", exact=True)
    expect(name).to_have_value("iris")
    # The field offers every sample to pick from.
    options = page.locator(f"datalist#{name.get_attribute('list')} option".replace(":", "\\:"))
    expect(options).to_have_count(len(SAMPLE_NAMES))
    expect(options.first).to_have_attribute("value", SAMPLE_NAMES[0])
