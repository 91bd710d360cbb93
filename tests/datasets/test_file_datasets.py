"""File datasets: a zip uploaded through the API is kept as files, refused when it would
unpack outside its folder or too large, and reaches Execute Python Script's Script Bundle
through Import File Dataset in a run."""
from __future__ import annotations

import io
import textwrap
import zipfile

import pytest

from designer import engine_settings

from .conftest import upload
from .test_import_data_from_dataset import finished_run, threads_end_with_the_test  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def zip_bytes(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


BUNDLE = {
    "pricing/__init__.py": "",
    "pricing/tax.py": "def with_tax(x):\n    return x * 1.2\n",
    "rates.csv": "colour,rate\nred,1\nblue,2\n",
}

SCRIPT = textwrap.dedent("""\
    import pandas as pd
    from azureml.core import Run
    from pricing.tax import with_tax

    def azureml_main(dataframe1=None, dataframe2=None):
        rates = pd.read_csv("./Script Bundle/rates.csv")
        rates["taxed"] = with_tax(rates["rate"])
        Run.get_context().log("rates", len(rates))
        return rates,
    """)


def test_an_uploaded_zip_is_a_file_dataset(api, user):
    content = zip_bytes(BUNDLE)  # once: a zip holds the time it was made
    response = api.post("/api/datasets/", {"file": upload(content, "my bundle.zip")}, format="multipart")
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["name"], created["kind"]) == ("my-bundle", "files")
    assert (created["latest"]["format"], created["latest"]["rows"]) == ("zip", 0)
    assert created["latest"]["size_bytes"] == len(content)
    listed = {d["name"]: d["kind"] for d in api.get("/api/datasets/").json()["results"]}
    assert listed == {"my-bundle": "files"}
    stored = engine_settings.datasets_dir(user) / "my-bundle" / "v1" / "files.zip"
    assert stored.read_bytes() == content
    missing = api.get(f"/api/datasets/{created['id']}/versions/1/preview/")
    assert missing.status_code == 404
    assert "holds files (a zip), not a table" in str(missing.json())


@pytest.mark.parametrize(
    ("files", "code", "fragment"),
    [
        ({"ok.py": "", "../../escape.py": "x"}, "unsafe_bundle", "a member outside its folder: '../../escape.py'"),
        ({f"f{i}": "" for i in range(10_001)}, "bundle_too_large", "at most 10,000 files"),
    ],
)
def test_a_hostile_zip_is_refused_at_upload(api, user, files, code, fragment):
    response = api.post("/api/datasets/", {"file": upload(zip_bytes(files), "evil.zip")}, format="multipart")
    assert response.status_code == 400
    assert fragment in str(response.json())
    assert not (engine_settings.datasets_dir(user) / "evil").exists()


def test_a_file_dataset_is_a_script_bundle_in_a_run(api):
    api.post("/api/datasets/", {"file": upload(zip_bytes(BUNDLE), "bundle.zip")}, format="multipart")
    document = {
        "format": "atelier/pipeline@1",
        "name": "bundle",
        "nodes": {
            "bundle": {"module": "import_file_dataset", "params": {"name": "bundle"}},
            "script": {"module": "execute_python_script", "inputs": {"bundle": "bundle.files"},
                       "params": {"script": SCRIPT}},
        },
    }
    run = finished_run(api, document)
    assert run.status == "completed", list(run.steps.values("node", "status", "error"))
    rows = api.get(f"/api/runs/{run.pk}/steps/script/outputs/dataset1/preview/").json()["rows"]
    assert rows == [["red", 1, 1.2], ["blue", 2, 2.4]]
    # The azureml stand-in works in the sandboxed step: its log is the step's metric.
    assert run.steps.get(node="script").metrics == {"rates": 2.0}


def test_import_data_of_a_file_dataset_and_the_reverse_say_which_module_to_use(api):
    api.post("/api/datasets/", {"file": upload(zip_bytes(BUNDLE), "bundle.zip")}, format="multipart")
    api.post("/api/datasets/", {"file": upload("a,b\n1,2\n", "table.csv")}, format="multipart")
    document = {
        "format": "atelier/pipeline@1",
        "name": "mixed-up",
        "settings": {"continue_on_step_failure": True},
        "nodes": {
            "as_table": {"module": "import_data", "params": {"source": "dataset", "name": "bundle"}},
            "as_files": {"module": "import_file_dataset", "params": {"name": "table"}},
        },
    }
    run = finished_run(api, document)
    errors = {step.node: step.error for step in run.steps.all()}
    assert errors["as_table"]["code"] == "not_a_table" and "use Import File Dataset" in errors["as_table"]["message"]
    assert errors["as_files"]["code"] == "not_files" and "is a table, not files: use Import Data" in errors["as_files"]["message"]
