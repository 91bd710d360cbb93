"""Jobs in the browser: the sample job submitted from the page (its job file and zipped code
folder), followed to its end on its page (metrics, the series chart, the image, the model in
./outputs to download, the log), then compared in its experiment."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

from playwright.sync_api import Page, expect

from designer.runs.models import Run
from tests.jobs.conftest import SAMPLE_JOB

from .conftest import LIVE_DATABASE, LiveServer

pytestmark = LIVE_DATABASE

RUN_TIMEOUT_MS = 120_000


def sample_zip(tmp_path: Path) -> Path:
    archive = tmp_path / "adult-income.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(SAMPLE_JOB.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(SAMPLE_JOB).as_posix())
    return archive


def test_submit_the_sample_job_and_read_its_results(page: Page, server: LiveServer, tmp_path: Path, screenshots: Path) -> None:
    page.get_by_role("link", name="Jobs and experiments").click()
    page.wait_for_url("**/jobs/")
    expect(page.get_by_role("region", name="Jobs")).to_contain_text("No jobs yet")

    submit = page.get_by_role("region", name="Submit a job")
    submit.get_by_label("Job file (atelier/job@1)").fill((SAMPLE_JOB / "job.yaml").read_text())
    submit.get_by_label("Code folder as a zip").set_input_files(str(sample_zip(tmp_path)))
    submit.get_by_role("button", name="Submit job").click()
    page.wait_for_url("**/jobs/*/")

    expect(page.get_by_role("heading", level=1)).to_contain_text("completed", timeout=RUN_TIMEOUT_MS)
    metrics = page.get_by_role("region", name="Metrics")
    expect(metrics.get_by_role("row", name="auc")).to_be_visible()
    expect(metrics.get_by_text("accuracy_by_trees").first).to_be_visible()
    expect(metrics.locator("figure.job-chart svg")).to_have_count(1)
    expect(metrics).to_contain_text("algorithm=random_forest")
    expect(page.get_by_role("img", name="Image feature_importances.png written by job")).to_be_visible()
    expect(page.get_by_role("region", name="Log")).to_contain_text("saved outputs/model.joblib")
    outputs = page.get_by_role("group", name="./outputs")
    with page.expect_download() as download:
        outputs.get_by_role("link", name="Download all (zip)").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert "model.joblib" in archive.namelist(), archive.namelist()
    # Each file of the tree downloads on its own: the model as the store keeps it.
    expect(outputs.get_by_role("treeitem").filter(has_text="model.joblib")).to_contain_text(" MB")
    with page.expect_download() as download:
        outputs.get_by_role("link", name="model.joblib").click()
    assert download.value.suggested_filename == "model.joblib"
    assert Path(download.value.path()).read_bytes() == archive.read("model.joblib")
    # The sample's requirements.txt is for docker compute; on local, the server's Python runs it.
    expect(page.get_by_role("region", name="Environment")).to_contain_text("the server's own Python environment")
    page.get_by_text("Snapshot files").click()
    snapshot = page.get_by_role("region", name="Snapshot")
    expect(snapshot.get_by_text("features.py", exact=True)).to_be_visible()
    expect(snapshot.get_by_text("job.yaml", exact=True)).to_be_visible()
    page.screenshot(path=str(screenshots / "job-page.png"), full_page=True)

    page.get_by_role("link", name="adult-income").click()
    page.wait_for_url("**/experiments/adult-income/")
    table = page.get_by_role("table", name="Runs of adult-income")
    expect(table.get_by_role("columnheader", name="job.auc")).to_be_visible()
    expect(table.get_by_role("row")).to_have_count(2)  # a header and the job
    assert Run.objects.get().kind == "job"
