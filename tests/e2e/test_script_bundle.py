"""A zip uploaded from the palette is a file dataset: it lands on the canvas as Import File
Dataset, whose output wires to Execute Python Script's Script Bundle port, and the exported
pipeline file says so."""
from __future__ import annotations

import zipfile
from pathlib import Path

from playwright.sync_api import Page, expect

from .canvas_actions import drag_module, new_pipeline, node, wire
from .conftest import LIVE_DATABASE, LiveServer

pytestmark = LIVE_DATABASE


def test_an_uploaded_zip_wires_to_the_script_bundle_port(page: Page, server: LiveServer, tmp_path: Path) -> None:
    new_pipeline(page, "bundle")

    bundle = tmp_path / "helpers.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("helpers.py", "def double(x):\n    return 2 * x\n")
    page.get_by_label("Upload dataset").set_input_files(str(bundle))
    expect(page.get_by_label("Add dataset helpers")).to_be_visible()
    expect(node(page, "import_file_dataset")).to_be_visible()

    drag_module(page, "execute_python_script", 420, 320)
    expect(node(page, "execute_python_script")).to_be_visible()
    wire(page, "import_file_dataset", "files", "execute_python_script", "bundle")
    expect(page.locator(".react-flow__edge")).to_have_count(1)
    expect(page.get_by_label("Save status")).to_have_attribute("data-status", "saved")

    page.get_by_role("button", name="Export ▾").click()
    with page.expect_download() as download:
        page.get_by_role("menuitem", name="Pipeline file (YAML)").click()
    exported = tmp_path / download.value.suggested_filename
    download.value.save_as(exported)
    text = exported.read_text()
    assert "module: import_file_dataset" in text and "name: helpers" in text
    assert "bundle: import_file_dataset.files" in text
