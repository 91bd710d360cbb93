"""The jobs API: submit a zipped code folder with its job file; a job is a run (its history,
cancel, rerun and ownership); experiments compare their runs' metrics."""
from __future__ import annotations

import io
import zipfile

import pytest
from rest_framework.test import APIClient

from designer.jobs import services as jobs
from designer.engine.job_file import load_job
from designer.runs import execution
from designer.runs.models import Run

from .conftest import SAMPLE_JOB, zipped

pytestmark = pytest.mark.django_db

JOB = "format: atelier/job@1\nname: tiny\nscript: train.py\nargs: [--alpha, 0.5]\nexperiment: tiny-exp\n"
TRAIN = """
import sys
from azureml.core import Run
run = Run.get_context()
alpha = float(sys.argv[2])
for step in range(3):
    run.log("loss", alpha / (step + 1))
open("outputs/model.txt", "w").write(f"alpha={alpha}")
print("trained")
"""


def submit(api, folder, job: str = JOB, **extra) -> dict:
    response = api.post("/api/jobs/", {"job": job, "code": zipped(folder), **extra}, format="multipart")
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_submitted_job_runs_its_snapshot_and_keeps_its_metrics_logs_and_outputs(api, user, code, store_dirs):
    folder = code({"train.py": TRAIN, ".amlignore": "data/\n", "data/big.csv": "x" * 1000})
    body = submit(api, folder)
    assert body["kind"] == "job" and body["experiment"] == "tiny-exp" and body["status"] == "queued"
    snapshot = body["job"]["snapshot"]
    assert snapshot["files"] == 2 and snapshot["ignore_file"] == ".amlignore"
    listed = api.get(f"/api/jobs/{body['id']}/snapshot/").json()
    assert [f["path"] for f in listed["files"]] == [".amlignore", "train.py"] and listed["digest"] == snapshot["digest"]

    run = Run.objects.get(pk=body["id"])
    execution.run_execute(run=run)
    detail = api.get(f"/api/jobs/{run.pk}/").json()
    assert detail["status"] == "completed", detail["steps"][0]["error"]
    step = detail["steps"][0]
    assert step["module"] == "run_script" and step["metrics"] == {"loss": pytest.approx(0.5 / 3)}
    logs = api.get(f"/api/runs/{run.pk}/steps/job/logs/").json()
    assert "trained" in str(logs)
    download = api.get(f"/api/runs/{run.pk}/steps/job/outputs/outputs/download/")
    assert download.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    assert [archive.read(n) for n in archive.namelist() if n.endswith("model.txt")] == [b"alpha=0.5"]
    # Live metric events were recorded with the run, one per logged value.
    assert run.events.filter(type="step_metric").count() == 3
    assert [j["id"] for j in api.get("/api/jobs/").json()["results"]] == [str(run.pk)]


def test_a_rerun_of_a_job_runs_it_again_on_the_same_snapshot(api, code, store_dirs):
    body = submit(api, code({"train.py": TRAIN}))
    execution.run_execute(run=Run.objects.get(pk=body["id"]))
    again = api.post(f"/api/runs/{body['id']}/rerun/", {}, format="json").json()
    rerun = Run.objects.get(pk=again["id"])
    assert rerun.kind == "job" and rerun.job == Run.objects.get(pk=body["id"]).job
    execution.run_execute(run=rerun)
    rerun.refresh_from_db()
    assert rerun.status == "completed" and not rerun.steps.get().reused


def test_the_same_folder_is_snapshotted_once(user, code, store_dirs):
    folder = code({"train.py": TRAIN})
    doc = load_job(JOB)
    first = jobs.job_prepare(doc=doc, folder=folder)
    second = jobs.job_prepare(doc=doc, folder=folder)
    assert first.job["snapshot"]["digest"] == second.job["snapshot"]["digest"]
    assert not first.job["snapshot"]["reused"] and second.job["snapshot"]["reused"]


def test_experiments_list_their_runs_metrics_side_by_side(api, code, store_dirs):
    folder = code({"train.py": TRAIN})
    ids = []
    for alpha in ("0.5", "0.25"):
        body = submit(api, folder, JOB.replace("0.5", alpha))
        execution.run_execute(run=Run.objects.get(pk=body["id"]))
        ids.append(body["id"])
    assert api.get("/api/experiments/").json()[0] | {"last_run_at": None} == {
        "name": "tiny-exp", "runs": 2, "last_run_at": None,
    }
    runs = api.get("/api/experiments/tiny-exp/").json()
    assert [r["id"] for r in runs] == ids[::-1]
    assert [r["metrics"]["job"]["loss"] for r in runs] == [pytest.approx(0.25 / 3), pytest.approx(0.5 / 3)]


def test_another_user_gets_404_for_jobs_experiments_and_their_runs(api, other_user, code, store_dirs):
    body = submit(api, code({"train.py": TRAIN}))
    intruder = APIClient()
    intruder.force_authenticate(other_user)
    for method, url in [
        ("get", f"/api/jobs/{body['id']}/"), ("get", f"/api/jobs/{body['id']}/snapshot/"),
        ("get", "/api/experiments/tiny-exp/"),
        ("post", f"/api/runs/{body['id']}/cancel/"), ("post", f"/api/runs/{body['id']}/rerun/"),
        ("get", f"/api/runs/{body['id']}/steps/job/logs/"),
    ]:
        response = getattr(intruder, method)(url)
        assert response.status_code == 404, (method, url, response.status_code)
    assert intruder.get("/api/jobs/").json()["results"] == [] and intruder.get("/api/experiments/").json() == []
    assert APIClient().get("/api/jobs/").status_code in (401, 403)
    # A pipeline's run is not a job.
    assert api.get("/api/jobs/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_a_queued_job_is_cancelled(api, code, store_dirs):
    body = submit(api, code({"train.py": TRAIN}))
    response = api.post(f"/api/runs/{body['id']}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


def errors_of(response) -> list[dict]:
    assert response.status_code == 400, response.json()
    return response.json()["errors"]


def test_bad_submissions_say_what_and_where(api, code, store_dirs, settings):
    folder = code({"train.py": TRAIN, "notes.txt": "n" * 5000})
    runs_before = set(Run.objects.values_list("pk", flat=True))
    bad_file = errors_of(api.post("/api/jobs/", {"job": "format: atelier/job@1\nscirpt: x.py\n", "code": zipped(folder)}))
    assert {e["code"] for e in bad_file} >= {"unknown_key"}
    missing = errors_of(api.post("/api/jobs/", {"job": JOB.replace("train.py", "nope.py"), "code": zipped(folder)}))
    assert missing[0]["code"] == "script_not_found" and missing[0]["param"] == "script"
    unknown_compute = errors_of(api.post("/api/jobs/", {"job": JOB, "code": zipped(folder), "compute": "moon"}))
    assert "moon" in unknown_compute[0]["message"]
    outside = errors_of(api.post("/api/jobs/", {"job": JOB + "code: ../..\n", "code": zipped(folder)}))
    assert outside[0]["code"] == "invalid_value" and outside[0]["param"] == "code"
    server_file = errors_of(api.post("/api/jobs/", {"job": JOB + "environment: ../../../../../etc/passwd\n", "code": zipped(folder)}))
    assert server_file[0]["code"] == "bad_environment" and "root:" not in str(server_file)
    not_zip = errors_of(api.post("/api/jobs/", {"job": JOB, "code": io.BytesIO(b"not a zip")}))
    assert not_zip[0]["code"] == "bad_archive"
    escaping = io.BytesIO()
    with zipfile.ZipFile(escaping, "w") as archive:
        archive.writestr("train.py", TRAIN)
        archive.writestr("../outside.py", "x")
    escaping.seek(0)
    assert errors_of(api.post("/api/jobs/", {"job": JOB, "code": escaping}))[0]["code"] == "unsafe_archive"
    settings.ATELIER = {**settings.ATELIER, "JOB_SNAPSHOT_MAX_BYTES": 3000}
    too_large = errors_of(api.post("/api/jobs/", {"job": JOB, "code": zipped(folder)}))
    assert too_large[0]["code"] == "snapshot_refused" and "notes.txt" in too_large[0]["message"]
    # None of them made a run (compared by id: the check is about these submissions only).
    assert set(Run.objects.values_list("pk", flat=True)) == runs_before


def test_a_dataset_input_of_someone_else_is_not_found(api, other_user, code, store_dirs):
    from designer.datasets.services import dataset_upload

    dataset_upload(user=other_user, file=io.BytesIO(b"a,b\n1,2\n"), filename="theirs.csv")
    job = JOB.replace("args: [--alpha, 0.5]", "args: [--alpha, 0.5, '${{inputs.data}}']") + "inputs: {data: dataset:theirs}\n"
    body = submit(api, code({"train.py": TRAIN}), job)
    run = Run.objects.get(pk=body["id"])
    execution.run_execute(run=run)
    error = run.steps.get().error
    assert run.status == "failed" and error["code"] == "unknown_dataset" and "theirs" in error["message"]


def run_script_pipeline(digest: str) -> dict:
    return {"format": "atelier/pipeline@1", "name": "theirs", "nodes": {
        "job": {"module": "run_script", "params": {"script": "train.py", "snapshot": digest}},
    }}


def test_a_code_snapshot_is_read_only_by_its_owners_runs(api, user, other_user, code, store_dirs):
    """A step reads a stored artifact by its digest only when it is one of the user's jobs'
    snapshots: another user's snapshot, or any other artifact (here another user's table),
    is refused at submission like a digest that does not exist."""
    from designer import engine_settings

    theirs = jobs.job_submit(user=other_user, doc=load_job(JOB), folder=code({"train.py": TRAIN}))
    their_snapshot = theirs.job["snapshot"]["digest"]
    their_table = engine_settings.artifact_store().put_folder(code({"secret.csv": "a,b\n1,2\n"}, name="secret"))
    intruder = APIClient()
    intruder.force_authenticate(user)
    for digest in (their_snapshot, their_table):
        response = intruder.post("/api/runs/", {"pipeline": run_script_pipeline(digest)}, format="json")
        assert response.status_code == 400, response.json()
        error = errors_of(response)[0]
        assert (error["code"], error["node"], error["port"]) == ("snapshot_not_found", "job", "code")
    assert not Run.objects.filter(created_by=user).exists()

    # Their own job's snapshot runs again in a pipeline of theirs.
    mine = APIClient()
    mine.force_authenticate(other_user)
    again = mine.post("/api/runs/", {"pipeline": run_script_pipeline(their_snapshot)}, format="json")
    assert again.status_code == 201, again.json()


def test_the_sample_job_file_is_valid():
    doc = load_job((SAMPLE_JOB / "job.yaml").read_text())
    assert doc.entry[0] == "train.py" and doc.experiment == "adult-income"


def test_a_jobs_outputs_are_listed_and_each_file_downloads_for_its_owner_only(api, other_user, code, store_dirs):
    script = (
        "import os\nos.makedirs('outputs/plots', exist_ok=True)\n"
        "open('outputs/model.txt', 'w').write('weights')\nopen('outputs/plots/roc.csv', 'w').write('0,1')\n"
        "open('logs/train.log', 'w').write('epoch 1')\n"
    )
    body = submit(api, code({"train.py": script}))
    run = Run.objects.get(pk=body["id"])
    execution.run_execute(run=run)
    base = f"/api/runs/{run.pk}/steps/job/outputs"

    listed = api.get(f"{base}/outputs/files/").json()
    assert listed == {"port": "outputs", "truncated": False, "files": [
        {"path": "model.txt", "bytes": 7}, {"path": "plots/roc.csv", "bytes": 3},
    ]}
    assert [f["path"] for f in api.get(f"{base}/logs/files/").json()["files"]] == ["train.log"]
    one = api.get(f"{base}/outputs/file/", {"path": "plots/roc.csv"})
    assert one.status_code == 200 and b"".join(one.streaming_content) == b"0,1"
    assert 'filename="roc.csv"' in one["Content-Disposition"] and one["Content-Type"] == "application/octet-stream"

    # The path is the client's word: nothing outside the output, and no link is followed.
    for bad in ["../logs/train.log", "/etc/passwd", "plots/../../x", "", "."]:
        refused = api.get(f"{base}/outputs/file/", {"path": bad})
        assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "path", (bad, refused.json())
    folder = artifact_folder(run, "outputs")
    folder.chmod(0o755)
    (folder / "link.txt").symlink_to("/etc/hostname")
    (folder / "plots-link").symlink_to(folder / "plots")
    folder.chmod(0o555)
    for missing in ["nope.txt", "plots", "link.txt", "plots-link/roc.csv"]:
        assert api.get(f"{base}/outputs/file/", {"path": missing}).status_code == 404, missing
    assert "link.txt" not in str(api.get(f"{base}/outputs/files/").json())

    intruder = APIClient()
    intruder.force_authenticate(other_user)
    assert intruder.get(f"{base}/outputs/files/").status_code == 404
    assert intruder.get(f"{base}/outputs/file/", {"path": "model.txt"}).status_code == 404


def artifact_folder(run: Run, port: str):
    from designer import engine_settings

    return engine_settings.artifact_store().path(run.steps.get().outputs[port]["artifact"])
