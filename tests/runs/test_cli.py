"""`run_pipeline` and `validate_pipeline` as a user runs them: real processes, real database."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from designer.engine.local_backend import sandbox_unavailable
from designer.runs.models import Run, RunEvent, StepRun
from designer.samples import SAMPLES_DIR, sample_pipeline_files

from tests.cluster import ROOT, database_url

pytestmark = pytest.mark.slow  # every test starts manage.py processes

CARS = {"module": "import_data", "params": {"source": "sample", "name": "automobile-price-raw"}}


def outcome(done: subprocess.CompletedProcess) -> dict:
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    return json.loads(done.stdout)


def no_half_written_artifacts(data_dir) -> bool:
    tmp = data_dir / "artifacts" / "tmp"
    return not tmp.exists() or not any(tmp.iterdir())


@pytest.mark.parametrize("path", sample_pipeline_files(), ids=lambda p: p.stem)
def test_every_sample_completes(manage, path):
    done = manage("run_pipeline", str(path), "--json")
    summary = outcome(done)
    assert done.returncode == 0, summary
    assert summary["status"] == "completed"
    assert all(s["status"] == "completed" for s in summary["steps"].values())


def test_automobile_sample_scores_well_and_a_second_run_reuses_every_step(manage, data_dir):
    sample = str(SAMPLES_DIR / "automobile-price-regression.yaml")
    first = outcome(manage("run_pipeline", sample, "--json"))
    assert first["metrics"]["evaluate"]["coefficient_of_determination"] >= 0.8
    second = outcome(manage("run_pipeline", sample, "--json"))
    assert second["status"] == "completed"
    assert all(s["reused"] and s["status"] == "reused" for s in second["steps"].values())
    assert second["metrics"] == first["metrics"]

    # Both runs are recorded like any other, with their steps and events.
    runs = Run.objects.order_by("created_at")
    assert [r.status for r in runs] == ["completed", "completed"]
    assert str(runs[1].pk) == second["run_id"] and runs[1].source == "cli"
    reused = StepRun.objects.filter(run=runs[1])
    assert reused.count() == 8 and all(s.reused for s in reused)
    assert StepRun.objects.get(run=runs[0], node="evaluate").metrics == first["metrics"]["evaluate"]
    seqs = list(RunEvent.objects.filter(run=runs[0]).values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))

    forced = outcome(manage("run_pipeline", sample, "--json", "--force-rerun"))
    assert not any(s["reused"] for s in forced["steps"].values())


def test_parameters_from_the_command_line(manage):
    sample = str(SAMPLES_DIR / "automobile-price-regression.yaml")
    done = manage("run_pipeline", sample, "--json", "--param", "train_fraction=0.8")
    assert outcome(done)["status"] == "completed"
    snapshot = Run.objects.get()
    assert snapshot.parameters == {"train_fraction": 0.8}
    bad = manage("run_pipeline", sample, "--param", "train_fraction=most")
    assert bad.returncode == 1
    assert "pipeline parameter 'train_fraction' must be a number" in bad.stdout


def test_the_live_view_shows_each_step_and_a_summary(manage):
    done = manage("run_pipeline", str(SAMPLES_DIR / "sql-transformation.yaml"))
    assert done.returncode == 0
    for node in ("cars", "by_make", "summary"):
        assert any(node in line and "running" in line for line in done.stdout.splitlines())
        assert any(node in line and "completed" in line for line in done.stdout.splitlines())
    assert "Run " in done.stdout and ": completed" in done.stdout


def test_validate_pipeline_prints_every_error_as_json(manage, write_pipeline):
    path = write_pipeline({
        "x": {"module": "no_such_module"},
        "s": {"module": "select_columns", "params": {"columns": ["a"]}},
    })
    done = manage("validate_pipeline", path, "--json")
    assert done.returncode == 1
    errors = json.loads(done.stdout)
    assert {(e["code"], e["node"], e.get("port")) for e in errors} == {
        ("unknown_module", "x", None), ("missing_input", "s", "dataset"),
    }
    assert manage("validate_pipeline", str(SAMPLES_DIR / "iris-multiclass.yaml")).returncode == 0


def test_a_missing_file_is_a_clear_error(manage):
    done = manage("run_pipeline", "no/such/file.yaml")
    assert done.returncode != 0
    assert "no/such/file.yaml: no such file" in done.stderr and "Traceback" not in done.stderr


# -- bad input: the message names the node, the exit code is non-zero, nothing half-written --

SCRIPT_SYNTAX = "def azureml_main(dataframe1=None, dataframe2=None):\n    return dataframe1,,\n"
SCRIPT_RAISES = "def azureml_main(dataframe1=None, dataframe2=None):\n    x = 1\n    raise ValueError('no good')\n"

GRAPH_ERRORS = {
    "cycle": ({
        "a": {"module": "select_columns", "inputs": {"dataset": "b.dataset"}, "params": {"columns": ["x"]}},
        "b": {"module": "select_columns", "inputs": {"dataset": "a.dataset"}, "params": {"columns": ["x"]}},
    }, "a", "form a cycle"),
    "unknown module": ({"m": {"module": "mystery"}}, "m", "there is no module 'mystery'"),
    "unknown version": ({"m": {"module": "import_data", "version": 9}}, "m", "has no version 9"),
    "unknown key": ({"m": {"module": "import_data", "colour": "red"}}, "m", "unknown key 'colour'"),
    "missing input": ({"s": {"module": "select_columns", "params": {"columns": ["x"]}}}, "s",
                      "required input 'dataset' (DataFrame) is not connected"),
    "type mismatch": ({"cars": CARS, "score": {
        "module": "score_model", "inputs": {"model": "cars.dataset", "dataset": "cars.dataset"}}}, "score",
        "input 'model' takes a TrainedModel, but cars.dataset is a DataFrame"),
    "param type": ({"cars": CARS, "split": {
        "module": "split_data", "inputs": {"dataset": "cars.dataset"}, "params": {"fraction": "half"}}}, "split",
        "Fraction must be a number"),
    "param range": ({"cars": CARS, "split": {
        "module": "split_data", "inputs": {"dataset": "cars.dataset"}, "params": {"fraction": 7}}}, "split",
        "Fraction must be at most 1"),
    # Where the columns are known before running (a sample's), validation names the column.
    "column that does not exist": ({"cars": CARS, "pick": {
        "module": "select_columns", "inputs": {"dataset": "cars.dataset"},
        "params": {"columns": ["make", "wheel-count"]}}}, "pick", "'wheel-count' not found"),
    "unresolved parameter": ({"cars": CARS, "split": {
        "module": "split_data", "inputs": {"dataset": "cars.dataset"},
        "params": {"fraction": "${{parameters.share}}"}}}, "split", "${{parameters.share}}"),
}


@pytest.mark.parametrize("case", GRAPH_ERRORS, ids=str)
def test_graph_errors_stop_the_run_before_anything_starts(manage, write_pipeline, data_dir, case):
    nodes, node, message = GRAPH_ERRORS[case]
    path = write_pipeline(nodes)
    done = manage("run_pipeline", path)
    assert done.returncode == 1
    assert f"node '{node}'" in done.stdout and message in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    as_json = manage("run_pipeline", path, "--json")
    errors = outcome(as_json)["errors"]
    assert any(e["node"] == node and message in e["message"] for e in errors)
    assert not Run.objects.exists()


def test_two_edges_into_one_input(manage, tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text(
        "format: atelier/pipeline@1\nname: t\nnodes:\n  a: {module: import_data}\n"
        "  s:\n    module: select_columns\n    params: {columns: [x]}\n"
        "    inputs:\n      dataset: a.dataset\n      dataset: a.dataset\n"
    )
    done = manage("run_pipeline", str(path))
    assert done.returncode == 1
    assert "node 's', port 'dataset': input 'dataset' has two edges" in done.stdout


def test_a_file_that_is_not_yaml_or_json(manage, tmp_path):
    path = tmp_path / "picture.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    done = manage("run_pipeline", str(path))
    assert done.returncode == 1 and "not UTF-8 text" in done.stdout
    prose = tmp_path / "notes.txt"
    prose.write_text("remember: buy milk\n  - and: [eggs\n")
    done = manage("validate_pipeline", str(prose))
    assert done.returncode == 1 and "not valid YAML at line" in done.stdout


RUNTIME_ERRORS = {
    # After a script the columns can't be known before running: the step reports it.
    "column that does not exist": ({"cars": CARS, "py": {
        "module": "execute_python_script", "inputs": {"dataset1": "cars.dataset"},
        "params": {"script": "def azureml_main(dataframe1=None, dataframe2=None):\n    return dataframe1,\n"}},
        "pick": {"module": "select_columns", "inputs": {"dataset": "py.dataset1"},
                 "params": {"columns": ["make", "wheel-count"]}}}, "pick", "'wheel-count' not found"),
    "ragged csv": ({"typed": {"module": "enter_data_manually",
                              "params": {"data": "a,b\n1,2\n3,4,5\n6,7\n"}}}, "typed", "line 3"),
    "empty table where rows are needed": ({
        "typed": {"module": "enter_data_manually", "params": {"data": "x,y\n"}},
        "algo": {"module": "linear_regression"},
        "train": {"module": "train_model", "inputs": {"model": "algo.model", "dataset": "typed.dataset"},
                  "params": {"label_column": "y"}},
    }, "train", "row"),
    "missing values reaching a learner": ({
        "cars": CARS, "algo": {"module": "linear_regression"},
        "train": {"module": "train_model", "inputs": {"model": "algo.model", "dataset": "cars.dataset"},
                  "params": {"label_column": "price"}},
    }, "train", "Clean Missing Data"),
    "script syntax error": ({"cars": CARS, "py": {
        "module": "execute_python_script", "inputs": {"dataset1": "cars.dataset"},
        "params": {"script": SCRIPT_SYNTAX}}}, "py", "line 2"),
    "script exception": ({"cars": CARS, "py": {
        "module": "execute_python_script", "inputs": {"dataset1": "cars.dataset"},
        "params": {"script": SCRIPT_RAISES}}}, "py", "line 3: ValueError: no good"),
}


@pytest.mark.parametrize("case", RUNTIME_ERRORS, ids=str)
def test_step_failures_name_the_node_and_what_went_wrong(manage, write_pipeline, data_dir, case):
    nodes, node, message = RUNTIME_ERRORS[case]
    done = manage("run_pipeline", write_pipeline(nodes), "--json")
    summary = outcome(done)
    assert done.returncode == 1 and summary["status"] == "failed"
    error = summary["steps"][node]["error"]
    assert error["node"] == node and message in error["message"], error
    assert error["code"] != "internal_error"
    assert no_half_written_artifacts(data_dir)
    assert StepRun.objects.get(node=node).status == "failed"


def test_a_csv_in_the_wrong_encoding(manage, write_pipeline, tmp_path):
    roots = tmp_path / "files"
    roots.mkdir()
    (roots / "cities.csv").write_bytes("city,people\nZürich,421878\n".encode("latin-1"))
    path = write_pipeline({"cities": {"module": "import_data", "params": {"source": "path", "path": "cities.csv"}}})
    summary = outcome(manage("run_pipeline", path, "--json", env={"ATELIER_DATA_ROOTS": str(roots)}))
    error = summary["steps"]["cities"]["error"]
    assert "not valid utf-8" in error["message"] and "line 2" in error["message"]
    assert error["param"] == "encoding"


def test_ctrl_c_cancels_the_running_steps(data_dir, manage, write_pipeline):
    path = write_pipeline({"cars": CARS, "slow": {
        "module": "execute_python_script", "inputs": {"dataset1": "cars.dataset"},
        "params": {"script": "import time\ndef azureml_main(dataframe1=None, dataframe2=None):\n"
                             "    print('sleeping', flush=True)\n    time.sleep(120)\n"}}})
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_pipeline", path, "-v", "2"], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
        env={**os.environ, "DATABASE_URL": database_url(), "ATELIER_DATA_DIR": str(data_dir)},
    )
    deadline = time.monotonic() + 120
    for line in process.stdout:
        if "sleeping" in line or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "slow" in out and "cancelled" in out
    assert "Traceback" not in out + err
    run = Run.objects.get()
    assert run.status == "cancelled"
    assert StepRun.objects.get(run=run, node="slow").status == "cancelled"
    assert no_half_written_artifacts(data_dir)


def test_a_python_installed_under_tmp_runs_sandboxed(data_dir, write_pipeline):
    """The sandbox covers /tmp with a fresh one, twice (the step server's, then each step's):
    a Python whose prefix is under /tmp (a checkout there) must stay visible above both."""
    if sandbox_unavailable():
        pytest.skip(f"no sandbox for local steps: {sandbox_unavailable()}")
    under_tmp = Path(tempfile.mkdtemp(dir="/tmp"))
    (under_tmp / "venv").symlink_to(sys.prefix, target_is_directory=True)
    path = write_pipeline({"cars": CARS, "head": {
        "module": "execute_python_script", "inputs": {"dataset1": "cars.dataset"},
        "params": {"script": "import sys\ndef azureml_main(dataframe1=None, dataframe2=None):\n"
                             "    print('prefix', sys.prefix, flush=True)\n    return dataframe1.head(3),\n"}}})
    try:
        done = subprocess.run(
            [str(under_tmp / "venv" / "bin" / "python"), "manage.py", "run_pipeline", path, "-v", "2"], cwd=ROOT,
            capture_output=True, text=True, timeout=300,
            env={**os.environ, "DATABASE_URL": database_url(), "ATELIER_DATA_DIR": str(data_dir),
                 "ATELIER_LOCAL_SANDBOX": "required"},
        )
    finally:
        shutil.rmtree(under_tmp)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"prefix {under_tmp}/venv" in done.stdout


def test_a_required_sandbox_that_is_missing_fails_the_steps_with_the_reason(data_dir, manage, write_pipeline):
    path = write_pipeline({"cars": CARS})
    no_bwrap = data_dir / "bin"  # a PATH where bubblewrap is not installed
    no_bwrap.mkdir()
    summary = outcome(manage("run_pipeline", path, "--json",
                             env={"PATH": str(no_bwrap), "ATELIER_LOCAL_SANDBOX": "required"}))
    assert summary["status"] == "failed"
    error = summary["steps"]["cars"]["error"]
    assert "local steps cannot be sandboxed" in error["message"] and "bubblewrap" in error["message"]
    assert Run.objects.get().status == "failed"
