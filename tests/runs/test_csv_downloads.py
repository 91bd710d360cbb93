"""Tables downloaded as CSV (run outputs and dataset versions): text cells a spreadsheet would
run as formulas are escaped unless the request, or the Export Data step that made a
version, turns that off; numbers stay numbers."""
from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from designer.datasets import services as dataset_services
from designer.runs import execution
from designer.runs.models import Run
from modules.sdk.testing import call_module

pytestmark = pytest.mark.django_db

HOSTILE = 'note,change\n"=HYPERLINK(""http://evil"")",-1.5\n@SUM(A1),2\nplain,-3\n'
ESCAPED = ["'=HYPERLINK(\"http://evil\")", "'@SUM(A1)", "plain"]
RAW = ["=HYPERLINK(\"http://evil\")", "@SUM(A1)", "plain"]
NODES = {
    "typed": {"module": "enter_data_manually", "params": {"data": HOSTILE}},
    "csv": {"module": "convert_to_csv", "inputs": {"dataset": "typed.dataset"}},
}


def _csv(response) -> pd.DataFrame:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return pd.read_csv(io.BytesIO(b"".join(response.streaming_content)))


@pytest.fixture
def output_url(api, store_dirs) -> str:
    response = api.post("/api/runs/", {"pipeline": {"format": "atelier/pipeline@1", "name": "csv", "nodes": NODES}},
                        format="json")
    assert response.status_code == 201, response.json()
    run = Run.objects.get(pk=response.json()["id"])
    execution.run_execute(run=run)
    return f"/api/runs/{run.pk}/steps/typed/outputs/dataset/download/"


def test_a_table_output_downloads_as_csv_with_formulas_escaped(api, output_url):
    response = api.get(output_url + "?format=csv")
    assert 'filename="csv-typed-dataset.csv"' in response["Content-Disposition"]
    table = _csv(response)
    assert table["note"].tolist() == ESCAPED
    assert table["change"].tolist() == [-1.5, 2, -3]


def test_escaping_is_turned_off_on_request(api, output_url):
    assert _csv(api.get(output_url + "?format=csv&escape_formulas=false"))["note"].tolist() == RAW


def test_parquet_stays_the_default(api, output_url):
    response = api.get(output_url)
    assert response["Content-Type"] == "application/vnd.apache.parquet"
    assert pd.read_parquet(io.BytesIO(b"".join(response.streaming_content)))["note"].tolist() == RAW


def test_only_tables_download_as_csv(api, output_url):
    response = api.get(output_url.replace("/typed/outputs/dataset/", "/csv/outputs/file/") + "?format=csv")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"code": "invalid", "message": "output 'file' is not a table: it downloads as a zip", "field": "format"}
    ]
    assert api.get(output_url + "?format=xlsx").status_code == 400


def test_a_dataset_version_downloads_as_csv(api, user, store_dirs):
    uploaded = api.post("/api/datasets/", {"file": io.BytesIO(HOSTILE.encode()), "name": "notes"}, format="multipart")
    assert uploaded.status_code == 201, uploaded.json()
    url = f"/api/datasets/{uploaded.json()['id']}/versions/1/download/"
    response = api.get(url + "?format=csv")
    assert 'filename="notes-v1.csv"' in response["Content-Disposition"]
    assert _csv(response)["note"].tolist() == ESCAPED
    assert _csv(api.get(url + "?format=csv&escape_formulas=false"))["note"].tolist() == RAW


def test_an_export_that_turned_escaping_off_downloads_raw_unless_asked(api, user, store_dirs, tmp_path: Path):
    table = pd.read_csv(io.StringIO(HOSTILE))
    run = call_module("export_data", {"name": "raw", "format": "csv", "escape_formulas": False},
                      work_dir=tmp_path, dataset=table)
    [export] = run.ctx.exports
    version = dataset_services.dataset_export_register(user=user, name="raw", table=tmp_path / "out" / export["path"])
    assert version.format == "csv"
    url = f"/api/datasets/{version.dataset_id}/versions/1/download/?format=csv"
    assert _csv(api.get(url))["note"].tolist() == RAW
    assert _csv(api.get(url + "&escape_formulas=true"))["note"].tolist() == ESCAPED
