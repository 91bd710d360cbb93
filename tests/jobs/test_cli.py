"""`submit_job` as a user runs it: real processes, the real sandbox, the real database."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from designer.runs.models import Run


from .conftest import ROOT, SAMPLE_JOB, database_url


def outcome(done: subprocess.CompletedProcess) -> dict:
    assert "Traceback" not in done.stdout, done.stdout
    return json.loads(done.stdout)


def test_the_sample_job_trains_on_local_compute_and_its_snapshot_is_stored_once(manage, data_dir):
    done = manage("submit_job", str(SAMPLE_JOB / "job.yaml"), "--json")
    summary = outcome(done)
    assert done.returncode == 0, done.stderr
    metrics = summary["metrics"]["job"]
    assert metrics["accuracy"] > 0.8 and metrics["auc"] > 0.85
    run = Run.objects.get()
    assert run.kind == "job" and run.experiment == "adult-income" and run.source == "cli"
    step = run.steps.get()
    assert step.visuals["run_log"]["tags"] == {"algorithm": "random_forest"}
    assert len(step.visuals["run_log"]["series"]["accuracy_by_trees"]) == 3 and step.images
    model = data_dir / "artifacts" / "objects" / step.outputs["outputs"]["artifact"][:2] / step.outputs["outputs"]["artifact"]
    assert (model / "model.joblib").is_file()
    # The snapshot holds the code, not what .amlignore leaves out.
    snapshot = run.job["snapshot"]
    assert snapshot["ignore_file"] == ".amlignore" and snapshot["files"] == 6 and not snapshot["reused"]

    again = manage("submit_job", str(SAMPLE_JOB), "--script", "train.py", "--experiment", "adult-income",
                   "--input", "adult=sample:adult-census-income",
                   "--args", "--data", "${{inputs.adult}}", "--n-estimators", "10")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "already stored" in again.stdout and "accuracy" in again.stdout
    assert Run.objects.filter(experiment="adult-income").count() == 2


def test_a_script_error_shows_the_scripts_line_and_exits_1(manage, tmp_path):
    (tmp_path / "train.py").write_text("import json\n\nrows = json.loads('[]')\nprint(rows[3])\n")
    done = manage("submit_job", str(tmp_path), "--script", "train.py")
    assert done.returncode == 1
    assert "train.py, line 4: IndexError: list index out of range" in done.stdout
    assert 'File "train.py", line 4' in done.stdout and "launch.py" not in done.stdout
    assert Run.objects.get().status == "failed"


def test_bad_input_is_told_without_a_traceback(manage, tmp_path):
    (tmp_path / "train.py").write_text("")
    missing = manage("submit_job", str(tmp_path), "--script", "nope.py")
    assert missing.returncode == 1 and "nope.py" in missing.stdout and "Traceback" not in missing.stderr
    no_script = manage("submit_job", str(tmp_path), "--json")
    assert outcome(no_script)["errors"][0]["param"] == "script"
    assert not Run.objects.exists()


def test_an_endless_script_is_stopped_by_its_timeout(manage, tmp_path):
    (tmp_path / "train.py").write_text("while True:\n    pass\n")
    done = manage("submit_job", str(tmp_path), "--script", "train.py", "--timeout", "2", "--json")
    summary = outcome(done)
    assert done.returncode == 1
    assert summary["steps"]["job"]["error"]["origin"] == "time_limit"


def test_the_script_cannot_read_outside_its_folder(manage, tmp_path, data_dir):
    secret = data_dir / "secret.txt"
    secret.write_text("host secret")
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text(
        "import sys\nfrom atelier import run\n"
        "for path in sys.argv[1:]:\n"
        "    try:\n        open(path).read()\n        run.log('read', 1)\n"
        "    except OSError:\n        run.log('refused', 1)\n"
    )
    store = data_dir / "artifacts" / "objects"
    done = manage("submit_job", str(code), "--script", "train.py", "--json", "--args", str(secret), str(code / "train.py"),
                  str(store), env={"ATELIER_LOCAL_SANDBOX": "required"})
    summary = outcome(done)
    assert done.returncode == 0, done.stderr
    step = Run.objects.get().steps.get()
    assert step.visuals["run_log"]["series"] == {"refused": [1, 1, 1]}


def test_follow_streams_the_scripts_log_lines_and_without_it_states_and_metrics_show(manage, tmp_path):
    (tmp_path / "train.py").write_text(
        "from atelier import run\nprint('epoch 1 of 1', flush=True)\nrun.log('loss', 0.25)\n"
    )
    quiet = manage("submit_job", str(tmp_path), "--script", "train.py")
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert "job          running" in quiet.stdout and "job          loss = 0.25" in quiet.stdout
    assert "epoch 1 of 1" not in quiet.stdout

    followed = manage("submit_job", str(tmp_path), "--script", "train.py", "--follow")
    assert followed.returncode == 0, followed.stdout + followed.stderr
    assert "job          | epoch 1 of 1" in followed.stdout and "job          loss = 0.25" in followed.stdout


def test_ctrl_c_cancels_the_job(data_dir, transactional_db, tmp_path):
    (tmp_path / "train.py").write_text("import time\nprint('started', flush=True)\ntime.sleep(300)\n")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "submit_job", str(tmp_path), "--script", "train.py", "--follow"], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "DATABASE_URL": database_url(), "ATELIER_DATA_DIR": str(data_dir)},
    )
    deadline = time.monotonic() + 120
    assert process.stdout is not None
    for line in process.stdout:
        if "started" in line or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1, out + err
    assert "cancelled" in out and "Traceback" not in out + err
    assert Run.objects.get().status == "cancelled"


def test_the_sample_job_trains_on_docker_in_its_own_environment(manage, docker_client):
    done = manage("submit_job", str(SAMPLE_JOB / "job.yaml"), "--compute", "docker", "--json", timeout=900)
    summary = outcome(done)
    assert done.returncode == 0, done.stderr
    assert summary["metrics"]["job"]["accuracy"] > 0.8
    step = Run.objects.get().steps.get()
    assert step.compute.startswith("docker-job-") and step.placement.get("image", "").startswith("atelier-env:")
