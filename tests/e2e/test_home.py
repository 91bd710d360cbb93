"""Home: pipelines created, started from a sample, imported, renamed, duplicated and
deleted; a pipeline file exported and imported from the editor; a dataset uploaded from the
palette, and one that needs reading options."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from designer.datasets.models import DatasetVersion
from designer.pipelines.models import Pipeline
from designer.samples import SAMPLES_DIR

from .canvas_actions import new_pipeline, node
from .conftest import LIVE_DATABASE, LiveServer

pytestmark = LIVE_DATABASE


def test_manage_pipelines_from_home(page: Page, server: LiveServer, user: Any) -> None:
    pipelines = page.get_by_role("region", name="Pipelines")
    expect(pipelines).to_contain_text("No pipeline yet")

    page.get_by_label("Sample pipeline").select_option("iris-multiclass")
    page.get_by_role("button", name="Open sample").click()
    page.wait_for_url("**/pipelines/*/")
    expect(page.get_by_label("Pipeline name")).to_have_value("iris-multiclass")
    page.get_by_label("Back to pipelines").click()

    page.get_by_label("Import pipeline file").set_input_files(str(SAMPLES_DIR / "sql-transformation.yaml"))
    page.wait_for_url("**/pipelines/*/")
    page.get_by_label("Back to pipelines").click()
    expect(pipelines.get_by_role("row")).to_have_count(3)  # a header and two pipelines

    page.get_by_label("Rename iris-multiclass").click()
    page.get_by_label("New name").fill("Iris flowers")
    page.get_by_role("button", name="Rename", exact=True).click()
    expect(pipelines.get_by_role("link", name="Iris flowers", exact=True)).to_be_visible()

    # A copy's name is the original's with a number: a user's pipeline names are unique.
    page.get_by_label("Duplicate Iris flowers", exact=True).click()
    expect(pipelines.get_by_role("link", name="Iris flowers (2)")).to_be_visible()

    page.get_by_label("Delete Iris flowers (2)").click()
    confirm = page.get_by_role("dialog", name="Delete pipeline")
    expect(confirm).to_contain_text("Delete Iris flowers (2) and all its versions?")
    confirm.get_by_role("button", name="Delete").click()
    expect(pipelines.get_by_role("link", name="Iris flowers (2)")).to_have_count(0)
    assert sorted(Pipeline.objects.values_list("name", flat=True)) == ["Iris flowers", "sql-transformation"]


def test_export_import_and_dataset_upload_from_the_editor(page: Page, server: LiveServer, tmp_path: Path) -> None:
    new_pipeline(page, "Prices")

    table = tmp_path / "prices.csv"
    table.write_text("make,price\naudi,13950\nbmw,16430\n")
    page.get_by_label("Upload dataset").set_input_files(str(table))
    expect(page.get_by_label("Add dataset prices")).to_be_visible()
    expect(node(page, "import_data")).to_be_visible()
    page.get_by_test_id("rf__node-import_data").locator(".module-node-title").click()
    expect(page.get_by_label("Source")).to_have_value("dataset")
    expect(page.get_by_label("Name", exact=True)).to_have_value("prices")
    expect(page.get_by_label("Save status")).to_have_attribute("data-status", "saved")

    page.get_by_role("button", name="Export ▾").click()
    with page.expect_download() as download:
        page.get_by_role("menuitem", name="Pipeline file (YAML)").click()
    exported = tmp_path / download.value.suggested_filename
    download.value.save_as(exported)
    assert "source: dataset" in exported.read_text()

    page.get_by_label("Import a pipeline file").set_input_files(str(exported))
    expect(page.get_by_role("status").filter(has_text="Imported as a new pipeline")).to_be_visible()
    expect(node(page, "import_data")).to_be_visible()
    assert Pipeline.objects.count() == 2


def test_an_upload_read_wrong_opens_the_reading_options(page: Page, server: LiveServer, tmp_path: Path) -> None:
    new_pipeline(page, "Prices")
    # What a spreadsheet in a European locale saves: Windows encoding, semicolons, decimal commas.
    table = tmp_path / "ventes.csv"
    table.write_bytes("ville;montant\nZürich;1,5\nBesançon;2,25\n".encode("cp1252"))
    options = page.locator("details.upload-options")
    expect(options).not_to_have_attribute("open", "")

    page.get_by_label("Upload dataset").set_input_files(str(table))
    expect(page.get_by_role("alert").filter(has_text="choose its encoding")).to_be_visible()
    expect(options).to_have_attribute("open", "")
    assert not DatasetVersion.objects.exists()

    options.get_by_label("Encoding").select_option("cp1252")
    options.get_by_label("Separator").select_option(";")
    page.get_by_label("Upload dataset").set_input_files(str(table))
    expect(page.get_by_label("Add dataset ventes")).to_be_visible()
    version = DatasetVersion.objects.get(dataset__name="ventes")
    assert [c["name"] for c in version.schema] == ["ville", "montant"] and version.rows == 2


def test_start_a_pipeline_from_data_on_home(page: Page, server: LiveServer, tmp_path: Path) -> None:
    data = page.get_by_role("region", name="Start from data")
    data.get_by_role("button", name="Start from sample automobile-price-raw").click()
    page.wait_for_url("**/pipelines/*/")
    expect(page.get_by_label("Pipeline name")).to_have_value("automobile-price-raw")
    page.get_by_test_id("rf__node-import_data").locator(".module-node-title").click()
    expect(page.get_by_label("Name", exact=True)).to_have_value("automobile-price-raw")

    # The user's own data is there too, once uploaded.
    table = tmp_path / "prices.csv"
    table.write_text("make,price\naudi,13950\nbmw,16430\n")
    page.get_by_label("Upload dataset").set_input_files(str(table))
    expect(page.get_by_label("Add dataset prices")).to_be_visible()
    expect(page.get_by_label("Save status")).to_have_attribute("data-status", "saved")
    page.get_by_label("Back to pipelines").click()
    data.get_by_role("button", name="Start from dataset prices").click()
    page.wait_for_url("**/pipelines/*/")
    expect(page.get_by_label("Pipeline name")).to_have_value("prices")

    # Started twice from the same data: the names stay unique.
    page.get_by_label("Back to pipelines").click()
    data.get_by_role("button", name="Start from sample automobile-price-raw").click()
    page.wait_for_url("**/pipelines/*/")
    expect(page.get_by_label("Pipeline name")).to_have_value("automobile-price-raw (2)")
    started = Pipeline.objects.get(name="prices").versions.latest("number").document
    assert started["nodes"]["import_data"]["params"] == {"source": "dataset", "name": "prices"}


def test_homes_buttons_stay_put_while_its_lists_load(page: Page, server: LiveServer, user: Any) -> None:
    """A click lands where the button was when it was aimed at: the sample list arriving
    later must not move New pipeline (it once did, and a click meant for it missed)."""
    held: list[Any] = []
    page.route("**/api/pipelines/samples/", lambda route: held.append(route))
    page.goto(f"{server.url}/")
    button = page.get_by_role("button", name="New pipeline")
    expect(button).to_be_visible()
    before = button.bounding_box()
    assert held, "the sample list was not asked for"
    held[0].continue_()
    expect(page.get_by_label("Sample pipeline").locator("option")).not_to_have_count(1)
    assert button.bounding_box() == before
