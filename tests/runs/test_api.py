"""The runs API: submit, list, read, cancel, rerun, and a finished run's logs and outputs.

Tests here run in a transaction that never commits, so submitted runs are never dispatched;
a test that needs a finished run executes it in the test's own thread (`finished` below).
The background dispatch itself is tested in test_dispatch.py.
"""
from __future__ import annotations

import io
import json
import zipfile

import pandas as pd
import pytest
import yaml

from designer.pipelines import validation
from designer.runs import execution, selectors, services
from designer.runs.models import Run, RunEvent, StepRun
from designer.samples import SAMPLES_DIR
from modules.sdk.artifacts import read_table

pytestmark = pytest.mark.django_db

SCRIPT = """\
import matplotlib
matplotlib.use("Agg")
from matplotlib import pyplot


def azureml_main(dataframe1=None, dataframe2=None):
    for i in range(5):
        print(f"line {i}", flush=True)
    pyplot.figure()
    pyplot.plot(dataframe1["x"], dataframe1["y"])
    return dataframe1,
"""
DATA = "x,y,colour\n" + "".join(f"{i},{2 * i + (i % 3) * 0.5},{'red' if i % 2 else 'blue'}\n" for i in range(30))
NODES = {
    "typed": {"module": "enter_data_manually", "params": {"data": DATA}},
    "py": {"module": "execute_python_script", "inputs": {"dataset1": "typed.dataset"}, "params": {"script": SCRIPT}},
    "algo": {"module": "linear_regression"},
    "pick": {"module": "select_columns", "inputs": {"dataset": "py.dataset1"}, "params": {"columns": ["x", "y"]}},
    "train": {"module": "train_model", "inputs": {"model": "algo.model", "dataset": "pick.dataset"},
              "params": {"label_column": "y"}},
    "score": {"module": "score_model", "inputs": {"model": "train.model", "dataset": "pick.dataset"}},
    "evaluate": {"module": "evaluate_model", "inputs": {"scored": "score.dataset"}},
}


def document(nodes: dict = NODES, **top) -> dict:
    return {"format": "atelier/pipeline@1", "name": "api-test", **top, "nodes": nodes}


def submit(api, **body) -> dict:
    response = api.post("/api/runs/", {"pipeline": document(), **body}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.fixture
def finished(api, store_dirs):
    """A run submitted through the API and executed here, to the end."""

    def run(**body) -> Run:
        run = Run.objects.get(pk=submit(api, **body)["id"])
        execution.run_execute(run=run)
        return run

    return run


# -- submit ---------------------------------------------------------------------------


def test_submit_a_pipeline_file(api, user):
    text = (SAMPLES_DIR / "sql-transformation.yaml").read_bytes()
    response = api.post(
        "/api/runs/", {"file": io.BytesIO(text), "force_rerun": "true", "parameters": "{}"}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "queued" and body["source"] == "api" and body["force_rerun"] is True
    assert [s["node"] for s in body["steps"]] == ["cars", "by_make", "summary"]
    run = Run.objects.get(pk=body["id"])
    assert run.created_by == user and run.pipeline_name == yaml.safe_load(text)["name"]


def test_submit_a_document_with_parameters_and_compute(api):
    nodes = {
        "cars": {"module": "import_data", "params": {"source": "sample", "name": "automobile-price-raw"}},
        "split": {"module": "split_data", "inputs": {"dataset": "cars.dataset"},
                  "params": {"fraction": "${{parameters.share}}"}},
    }
    body = {"pipeline": document(nodes, parameters={"share": {"type": "float", "default": 0.5}}),
            "parameters": {"share": 0.8}, "compute": "local"}
    response = api.post("/api/runs/", body, format="json")
    assert response.status_code == 201, response.json()
    run = Run.objects.get(pk=response.json()["id"])
    assert run.parameters == {"share": 0.8} and run.compute == "local"
    assert run.steps.get(node="split").status == "queued"


def test_submit_a_saved_pipeline_version(api, user, other_user):
    from designer.pipelines.services import pipeline_create, pipeline_save

    saved = pipeline_create(user=user, document=document(name="saved"))
    pipeline_save(pipeline=saved, user=user, document=document(name="saved-v2"), base_version=1)
    current = api.post("/api/runs/", {"pipeline_id": saved.pk}, format="json")
    assert current.status_code == 201, current.json()
    assert current.json()["pipeline_name"] == "saved-v2"
    assert (current.json()["pipeline_id"], current.json()["pipeline_version"]) == (saved.pk, 2)
    first = api.post("/api/runs/", {"pipeline_id": saved.pk, "version": 1}, format="json").json()
    assert first["pipeline_name"] == "saved" and first["pipeline_version"] == 1
    again = api.post(f"/api/runs/{first['id']}/rerun/", {}, format="json").json()
    assert again["pipeline_version"] == 1, "a rerun runs the same version"
    listed = api.get("/api/runs/", {"pipeline_id": saved.pk}).json()["results"]
    assert {r["id"] for r in listed} == {current.json()["id"], first["id"], again["id"]}
    assert api.get("/api/runs/", {"pipeline_id": theirs_id(other_user)}).json()["results"] == []
    for body in ({"pipeline_id": saved.pk, "version": 9}, {"pipeline_id": 10**12}):
        response = api.post("/api/runs/", body, format="json")
        assert response.status_code == 404 and response.json()["errors"][0]["code"] == "not_found"
    theirs = pipeline_create(user=other_user, document=document(name="theirs"))
    assert api.post("/api/runs/", {"pipeline_id": theirs.pk}, format="json").status_code == 404
    for bad in ({"pipeline_id": "x"}, {"pipeline_id": 0}, {"version": 1, "pipeline": document()},
                {"pipeline_id": saved.pk, "pipeline": document()}, {"pipeline_id": saved.pk, "version": -1}):
        response = api.post("/api/runs/", bad, format="json")
        assert response.status_code == 400 and response.json()["errors"], bad


def theirs_id(user) -> int:
    from designer.pipelines.services import pipeline_create

    return pipeline_create(user=user, document=document(name="someone else's")).pk


def test_clone_a_run_into_a_draft(api, user):
    from designer.pipelines.models import Pipeline

    created = submit(api)
    response = api.post(f"/api/runs/{created['id']}/clone/", {}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    pipeline = Pipeline.objects.get(pk=body["pipeline_id"])
    assert pipeline.owner == user and body["version"] == 1 and body["name"].startswith("api-test (run ")
    assert pipeline.versions.get().document["nodes"] == Run.objects.get(pk=created["id"]).pipeline["nodes"]
    named = api.post(f"/api/runs/{created['id']}/clone/", {"name": "mine"}, format="json").json()
    assert named["name"] == "mine"
    assert api.post(f"/api/runs/{created['id']}/clone/", {"name": "x" * 300}, format="json").status_code == 400


def test_an_invalid_pipeline_is_refused_with_every_error(api):
    nodes = {"x": {"module": "no_such_module"}, "s": {"module": "select_columns", "params": {"columns": ["a"]}}}
    response = api.post("/api/runs/", {"pipeline": document(nodes)}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {(e["code"], e["node"]) for e in errors} == {("unknown_module", "x"), ("missing_input", "s")}
    assert not Run.objects.exists()


HOSTILE_SUBMISSIONS = {
    "nothing": ({}, "json"),
    "both sources": ({"pipeline": json.dumps(document()), "file": io.BytesIO(b"x")}, "multipart"),
    "pipeline is a list": ({"pipeline": [1, 2]}, "json"),
    "pipeline is text": ({"pipeline": "format: atelier/pipeline@1"}, "json"),
    "parameters not an object": ({"pipeline": document(), "parameters": [1]}, "json"),
    "parameters nested": ({"pipeline": document(), "parameters": {"a": {"b": 1}}}, "json"),
    "parameters not json": ({"file": io.BytesIO(b"x"), "parameters": "{nope"}, "multipart"),
    "unknown parameter": ({"pipeline": document(), "parameters": {"ghost": 1}}, "json"),
    "unknown compute": ({"pipeline": document(), "compute": "mainframe"}, "json"),
    "long compute": ({"pipeline": document(), "compute": "x" * 500}, "json"),
    "force_rerun not a bool": ({"pipeline": document(), "force_rerun": "sometimes"}, "json"),
    "binary file": ({"file": io.BytesIO(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")}, "multipart"),
    "yaml bomb-ish": ({"file": io.BytesIO(b"a: &a [1]\nb: [*a, *a]\nformat: 3\n")}, "multipart"),
    "not yaml": ({"file": io.BytesIO(b"remember: buy milk\n  - and: [eggs\n")}, "multipart"),
    "bad node id": ({"pipeline": document({"../etc": {"module": "import_data"}})}, "json"),
    "nul character": ({"pipeline": document(description="a\x00b")}, "json"),
    "nul in a file": ({"file": io.BytesIO(json.dumps(document(description="a\x00b")).encode())}, "multipart"),
    "nul in a parameter": ({"pipeline": document(), "parameters": {"x\x00": "y"}}, "json"),
}


@pytest.mark.parametrize("case", HOSTILE_SUBMISSIONS, ids=str)
def test_malformed_submissions_get_a_structured_400(api, case):
    body, fmt = HOSTILE_SUBMISSIONS[case]
    response = api.post("/api/runs/", body, format=fmt)
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert errors and all("code" in e and "message" in e for e in errors)
    assert not Run.objects.exists()


def test_a_body_that_is_not_json(api):
    response = api.generic("POST", "/api/runs/", b"{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == "parse_error"


@pytest.mark.parametrize("number", ["1e400", "-1e400", "NaN", "Infinity"])
def test_numbers_json_cannot_store(api, number):
    share = {"share": {"type": "float", "default": 0.5}}
    nodes = {"cars": {"module": "import_data", "params": {"source": "sample", "name": "automobile-price-raw"}},
             "split": {"module": "split_data", "inputs": {"dataset": "cars.dataset"},
                       "params": {"fraction": "${{parameters.share}}", "seed": 0}}}
    body = json.dumps({"pipeline": document(nodes, parameters=share), "parameters": {"share": 0.5}})
    for hostile in (body.replace('"seed": 0', f'"seed": {number}'), body.replace('{"share": 0.5}', f'{{"share": {number}}}')):
        response = api.generic("POST", "/api/runs/", hostile.encode(), content_type="application/json")
        assert response.status_code == 400, response.content
        assert response.json()["errors"]
    assert not Run.objects.exists()


# -- list, filter, read -----------------------------------------------------------------


def test_list_and_filter(api, user):
    first = submit(api)
    second = submit(api, pipeline=document(name="other-name"))
    Run.objects.filter(pk=first["id"]).update(status="failed")
    Run.objects.create(pipeline_name="cli run", pipeline={}, plan={}, source="cli", created_by=user)

    def ids(query: str = "") -> list[str]:
        response = api.get(f"/api/runs/{query}")
        assert response.status_code == 200, response.json()
        return [r["id"] for r in response.json()["results"]]

    assert len(ids()) == 3
    assert ids() == [str(r.pk) for r in Run.objects.order_by("-created_at")]  # newest first
    assert ids("?status=failed") == [first["id"]]
    assert ids("?pipeline=OTHER") == [second["id"]]
    assert set(ids("?source=api")) == {first["id"], second["id"]}
    assert ids("?limit=1&offset=0") == ids()[:1]
    for bad in ("?status=exploded", "?source=fax", "?limit=-1&offset=x"):
        response = api.get(f"/api/runs/{bad}")
        assert response.status_code in (200, 400), bad
        if response.status_code == 400:
            assert response.json()["errors"]
    assert api.get("/api/runs/?status=exploded").status_code == 400


def test_read_a_run_with_its_steps(api):
    created = submit(api)
    body = api.get(f"/api/runs/{created['id']}/").json()
    assert body["pipeline"]["name"] == "api-test"
    assert {s["node"] for s in body["steps"]} == set(NODES)
    for bad in ("not-a-uuid", "00000000-0000-0000-0000-000000000000", "%00", "..", "x.json"):
        response = api.get(f"/api/runs/{bad}/")
        assert response.status_code == 404 and response.json()["errors"][0]["code"] == "not_found"
    # A path that leaves /api/runs/ matches no URL at all.
    assert api.get("/api/runs/..%2F..%2Fetc/").status_code == 404


# -- cancel and rerun -------------------------------------------------------------------


def test_cancel_a_queued_run(api):
    created = submit(api)
    response = api.post(f"/api/runs/{created['id']}/cancel/")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "cancelled"
    assert {s["status"] for s in body["steps"]} == {"cancelled"}
    again = api.post(f"/api/runs/{created['id']}/cancel/")
    assert again.status_code == 409 and again.json()["errors"][0]["code"] == "run_not_active"
    types = list(RunEvent.objects.filter(run_id=created["id"]).values_list("type", flat=True))
    assert types[-1] == "run_status"


def test_rerun_keeps_the_snapshot_and_reuses_every_step(api, finished):
    first = finished()
    assert first.status == "completed", list(first.steps.values("node", "status", "error"))
    response = api.post(f"/api/runs/{first.pk}/rerun/", {}, format="json")
    assert response.status_code == 201, response.json()
    again = Run.objects.get(pk=response.json()["id"])
    assert again.pk != first.pk and again.plan == first.plan and again.pipeline == first.pipeline
    assert again.source == "api" and again.status == "queued"
    execution.run_execute(run=again)
    assert again.status == "completed"
    assert set(again.steps.values_list("status", flat=True)) == {"reused"}
    # The list says so without opening the runs.
    steps = again.steps.count()
    counts = {r["id"]: r["step_counts"] for r in api.get("/api/runs/").json()["results"]}
    assert counts[str(again.pk)] == {"total": steps, "reused": steps, "failed": 0}
    assert counts[str(first.pk)] == {"total": steps, "reused": 0, "failed": 0}

    forced = api.post(f"/api/runs/{first.pk}/rerun/", {"force_rerun": True}, format="json").json()
    assert forced["force_rerun"] is True
    assert api.post(f"/api/runs/{first.pk}/rerun/", {"force_rerun": "maybe"}, format="json").status_code == 400


def test_rerun_from_an_unknown_node_is_404(api):
    created = submit(api)
    assert api.post(f"/api/runs/{created['id']}/rerun-from/ghost/").status_code == 404
    response = api.post(f"/api/runs/{created['id']}/rerun-from/score/")
    assert response.status_code == 201 and response.json()["id"] != created["id"]


def test_rerun_from_forces_the_node_and_everything_downstream():
    from designer.engine.compiler import Plan

    plan = Plan.from_json(validation.pipeline_prepare(document=document())[1].to_json())
    assert set(services._downstream_of(plan, "py")) == {"py", "pick", "train", "score", "evaluate"}
    assert services._downstream_of(plan, "evaluate") == ("evaluate",)


# -- a finished run's logs and outputs -------------------------------------------------


def test_logs_full_and_tail(api, finished):
    run = finished()
    url = f"/api/runs/{run.pk}/steps/py/logs/"
    lines = api.get(url).json()["lines"]
    assert [line for line in lines if line.startswith("line ")] == [f"line {i}" for i in range(5)]
    assert api.get(f"{url}?tail=2").json()["lines"] == lines[-2:]
    assert api.get(f"{url}?tail=0").json()["lines"] == []
    for bad in ("-1", "x", "10000000000"):
        response = api.get(f"{url}?tail={bad}")
        assert response.status_code == 400 and response.json()["errors"][0]["field"] == "tail"
    assert api.get(f"/api/runs/{run.pk}/steps/ghost/logs/").status_code == 404


def test_metrics_and_images(api, finished):
    run = finished()
    body = api.get(f"/api/runs/{run.pk}/steps/evaluate/metrics/").json()
    assert body["metrics"] == StepRun.objects.get(run=run, node="evaluate").metrics
    assert "coefficient_of_determination" in body["metrics"]
    images = api.get(f"/api/runs/{run.pk}/steps/py/metrics/").json()["images"]
    assert images == ["figure_1.png"]
    png = api.get(f"/api/runs/{run.pk}/steps/py/images/figure_1.png", HTTP_ACCEPT="image/png")
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert b"".join(png.streaming_content).startswith(b"\x89PNG")
    for bad in ("figure_1", "figure_2.png", "..", ".", "%00", "figure_1.png%00"):
        missing = api.get(f"/api/runs/{run.pk}/steps/py/images/{bad}", HTTP_ACCEPT="image/png")
        assert missing.status_code == 404 and missing.json()["errors"], bad
    for escape in ("..%2F..%2Fcache", "%2Fetc%2Fpasswd"):  # no URL matches a name with a slash
        assert api.get(f"/api/runs/{run.pk}/steps/py/images/{escape}").status_code == 404
    assert api.get(f"/api/runs/{run.pk}/steps/evaluate/metrics/").json()["images"] == []


def test_preview_pages_and_sorts(api, finished):
    run = finished()
    url = f"/api/runs/{run.pk}/steps/typed/outputs/dataset/preview/"
    body = api.get(f"{url}?offset=5&limit=10").json()
    assert body["total_rows"] == 30 and len(body["rows"]) == 10
    assert body["rows"][0][0] == 5
    assert [c["name"] for c in body["columns"]] == ["x", "y", "colour"]
    top = api.get(f"{url}?sort=-y&limit=3").json()["rows"]
    assert [row[1] for row in top] == sorted(pd.read_csv(io.StringIO(DATA))["y"], reverse=True)[:3]
    assert api.get(f"{url}?offset=100").json()["rows"] == []
    for bad in ("limit=0", "limit=100000", "offset=-3", "sort=nope", "limit=abc", "sort=" + "x" * 400):
        response = api.get(f"{url}?{bad}")
        assert response.status_code == 400 and response.json()["errors"], bad
    # Only tables have a preview; unknown ports are not found.
    model = api.get(f"/api/runs/{run.pk}/steps/train/outputs/model/preview/")
    assert model.status_code == 400 and model.json()["errors"][0]["field"] == "port"
    assert api.get(f"/api/runs/{run.pk}/steps/typed/outputs/ghost/preview/").status_code == 404


def test_download_a_table_and_a_model(api, finished):
    run = finished()
    table = api.get(
        f"/api/runs/{run.pk}/steps/score/outputs/dataset/download/", HTTP_ACCEPT="application/octet-stream"
    )
    assert table.status_code == 200
    assert 'filename="api-test-score-dataset.parquet"' in table["Content-Disposition"]
    downloaded = pd.read_parquet(io.BytesIO(b"".join(table.streaming_content)))
    meta, folder = selectors.step_output(step=StepRun.objects.get(run=run, node="score"), port="dataset")
    pd.testing.assert_frame_equal(downloaded, read_table(folder), check_like=True)

    model = api.get(f"/api/runs/{run.pk}/steps/train/outputs/model/download/")
    assert model.status_code == 200 and model["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(b"".join(model.streaming_content))).namelist()
    assert "model.skops" in names and json.loads(zipfile.ZipFile(io.BytesIO(
        b"".join(api.get(f"/api/runs/{run.pk}/steps/train/outputs/model/download/").streaming_content)
    )).read("meta.json")) is not None
    assert api.get(f"/api/runs/{run.pk}/steps/train/outputs/nope/download/").status_code == 404


def test_an_output_cleaned_from_the_store_is_404_not_500(api, finished, store_dirs):
    import shutil

    run = finished()
    meta, folder = selectors.step_output(step=StepRun.objects.get(run=run, node="typed"), port="dataset")
    folder.chmod(0o755)
    shutil.rmtree(folder)
    response = api.get(f"/api/runs/{run.pk}/steps/typed/outputs/dataset/preview/")
    assert response.status_code == 404 and response.json()["errors"]


def test_nul_bytes_and_odd_names_anywhere_in_urls_are_4xx(api, finished):
    run = finished()
    base = f"/api/runs/{run.pk}"
    urls = [
        f"{base}/steps/%00/logs/", f"{base}/steps/py%00/metrics/", f"{base}/steps/{'n' * 5000}/logs/",
        f"{base}/steps/typed/outputs/%00/preview/", f"{base}/steps/typed/outputs/dataset/preview/?sort=%00",
        f"{base}/steps/typed/outputs/%00/download/", "/api/runs/?pipeline=%00", "/api/runs/?status=%00",
        f"{base}/steps/py/logs/?tail=%00", f"{base}/steps/typed/outputs/dataset/preview/?offset=%00",
    ]
    for url in urls:
        response = api.get(url)
        assert 400 <= response.status_code < 500 and response.json()["errors"], url
    for url in (f"{base}/rerun-from/%00/", f"{base}/rerun-from/{'n' * 5000}/"):
        response = api.post(url)
        assert response.status_code == 404 and response.json()["errors"], url
