"""`submit_job --url` against a real server: the code folder goes as a zip (without what its
ignore file leaves out), the job is followed live, the exit code says how it ended."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from designer.runs.models import Run
from tests.cluster import Server
from tests.remote.conftest import token  # noqa: F401 (fixture)

from .conftest import ROOT, SAMPLE_JOB

pytestmark = pytest.mark.django_db(transaction=True)


def submit_job(server: Server, token: str, *args: str) -> subprocess.CompletedProcess:
    # No usable local database: the command must not need one.
    env = {**os.environ, "DATABASE_URL": "postgres://nobody@127.0.0.1:1/no_database_here", "ATELIER_TOKEN": token}
    return subprocess.run(
        [sys.executable, "manage.py", "submit_job", *args, "--url", server.origin], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=300, check=False,
    )


def test_the_sample_job_runs_on_a_server(server, token):  # noqa: F811
    done = submit_job(server, token, str(SAMPLE_JOB / "job.yaml"), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(done.stdout)
    assert summary["status"] == "completed" and summary["metrics"]["job"]["auc"] > 0.85
    run = Run.objects.get()
    assert run.kind == "job" and run.source == "api" and run.experiment == "adult-income"
    assert run.job["snapshot"]["files"] == 6


def test_a_failing_job_exits_1_with_its_line_and_a_bad_one_is_refused(server, token, tmp_path: Path):  # noqa: F811
    code = tmp_path / "code"  # not tmp_path itself: the server's folders are there
    code.mkdir()
    (code / "train.py").write_text("print('start')\nraise KeyError('label')\n")
    failed = submit_job(server, token, str(code), "--script", "train.py")
    assert failed.returncode == 1
    assert "train.py, line 2: KeyError: 'label'" in failed.stdout
    refused = submit_job(server, token, str(code), "--script", "nope.py", "--json")
    assert refused.returncode == 1, (refused.stdout, refused.stderr)
    assert json.loads(refused.stdout)["errors"][0]["code"] == "script_not_found"
    unusable = submit_job(server, "wrong-token", str(code), "--script", "train.py")
    assert unusable.returncode == 2 and "token" in unusable.stderr


def test_follow_streams_the_scripts_log_lines_from_the_server(server, token, tmp_path: Path):  # noqa: F811
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("from atelier import run\nprint('epoch 1 of 1', flush=True)\nrun.log('loss', 0.25)\n")
    quiet = submit_job(server, token, str(code), "--script", "train.py")
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert "job          loss = 0.25" in quiet.stdout and "epoch 1 of 1" not in quiet.stdout
    followed = submit_job(server, token, str(code), "--script", "train.py", "--follow")
    assert followed.returncode == 0, followed.stdout + followed.stderr
    assert "job          | epoch 1 of 1" in followed.stdout and "job          loss = 0.25" in followed.stdout
