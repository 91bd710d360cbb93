"""Run Script: a job's code run as `python <script> <arguments>` through the real step runner."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from modules.sdk.run_log import SCRIPT_API_DIR
from modules.sdk.testing import run_through_runner


def code_folder(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text))
    return root


def run(tmp_path: Path, files: dict[str, str], **params: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    code = code_folder(tmp_path / "code", files)
    return run_through_runner("run_script", {"script": "train.py", **params}, tmp_path / "step", code=code)


def test_the_script_gets_its_arguments_runs_in_its_folder_and_keeps_outputs_and_logs(tmp_path: Path) -> None:
    manifest, outputs = run(tmp_path, {
        "train.py": """
            import sys
            from helpers import shout
            print(shout(" ".join(sys.argv[1:])))
            open("outputs/model.txt", "w").write("weights")
            open("logs/train.log", "w").write("epoch 1")
            open("scratch.tmp", "w").write("not kept")
        """,
        "helpers.py": "def shout(text):\n    return text.upper()\n",
    }, arguments="--lr 0.1 'two words'")
    assert manifest["status"] == "completed", manifest["error"]
    assert (outputs["outputs"] / "model.txt").read_text() == "weights"
    assert (outputs["logs"] / "train.log").read_text() == "epoch 1"
    assert not (outputs["outputs"] / "scratch.tmp").exists()
    assert manifest["outputs"]["outputs"]["files"] == 1


def test_metrics_series_rows_tables_tags_and_images_are_recorded(tmp_path: Path) -> None:
    manifest, outputs = run(tmp_path, {"train.py": """
        import matplotlib.pyplot as plt
        from atelier import run
        for loss in (0.9, 0.5, 0.25):
            run.log("loss", loss)
        run.log_list("accuracy", [0.6, 0.8])
        run.log("note", "not a number")
        run.log_row("per_class", label="a", f1=0.5)
        run.log_table("confusion", {"actual": [0, 1], "predicted": [0, 0]})
        run.tag("stage", "baseline")
        plt.plot([1, 2, 3])
        run.log_image("curve", plot=plt)
        open("model.bin", "w").write("m")
        run.upload_file("models/model.bin", "model.bin")
    """})
    assert manifest["status"] == "completed", manifest["error"]
    # A list is a series (a chart), not a metric: only `log` of a number is.
    assert manifest["metrics"] == {"loss": 0.25}
    log = manifest["visuals"]["run_log"]
    assert log["series"]["loss"] == [0.9, 0.5, 0.25] and log["series"]["note"] == ["not a number"]
    assert log["series"]["accuracy"] == [0.6, 0.8]
    assert log["tables"]["per_class"] == {"label": ["a"], "f1": [0.5]}
    assert log["tables"]["confusion"] == {"actual": [0, 1], "predicted": [0, 0]}
    assert log["tags"] == {"stage": "baseline"}
    assert log["files"] == [{"name": "models/model.bin", "bytes": 1}]
    assert manifest["images"] == ["curve.png"]
    assert (outputs["outputs"] / "models" / "model.bin").read_text() == "m"


def test_an_azure_ml_v1_script_runs_unchanged(tmp_path: Path) -> None:
    manifest, _ = run(tmp_path, {"train.py": """
        from azureml.core import Run
        from azureml.core.run import Run as SameRun

        run = Run.get_context()
        assert run is SameRun.get_context()
        run.log("alpha", 0.03)
        run.log_list("errors", [3, 2, 1])
        run.complete()
    """})
    assert manifest["status"] == "completed", manifest["error"]
    assert manifest["metrics"] == {"alpha": 0.03}
    assert manifest["visuals"]["run_log"]["series"] == {"alpha": [0.03], "errors": [3, 2, 1]}


def test_an_exception_names_the_scripts_file_and_line_not_the_runners(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    manifest, _ = run(tmp_path, {
        "train.py": "import model\n\nmodel.fit([])\n",
        "model.py": "def fit(rows):\n    return 1 / len(rows)\n",
    })
    error = manifest["error"]
    assert error["code"] == "script_error" and error["param"] == "script"
    assert error["message"] == "model.py, line 2: ZeroDivisionError: division by zero"
    assert error["details"] == {"file": "model.py", "line": 2, "exception": "ZeroDivisionError"}
    printed = capfd.readouterr().err
    assert 'File "train.py", line 3' in printed and "runpy" not in printed and "launch.py" not in printed


def test_a_syntax_error_names_its_line(tmp_path: Path) -> None:
    manifest, _ = run(tmp_path, {"train.py": "x = 1\nif x\n    pass\n"})
    assert manifest["error"]["message"].startswith("train.py, line 2: SyntaxError")


def test_an_exit_code_is_a_failure_and_exit_0_is_not(tmp_path: Path) -> None:
    failed, _ = run(tmp_path / "a", {"train.py": "import sys\nsys.exit(3)\n"})
    assert failed["error"]["message"] == "the script exited with code 3"
    done, _ = run(tmp_path / "b", {"train.py": "import sys\nsys.exit(0)\n"})
    assert done["status"] == "completed"


def test_a_script_not_in_the_code_lists_what_is_there(tmp_path: Path) -> None:
    manifest, _ = run(tmp_path, {"src/main.py": "", "README.md": ""}, script="main.py")
    assert manifest["error"]["code"] == "script_not_found"
    assert "src/main.py" in manifest["error"]["message"]
    escaped, _ = run(tmp_path / "again", {"train.py": ""}, script="../train.py")
    assert escaped["error"]["param"] == "script"


def test_inputs_become_read_only_paths_outputs_folders_and_an_unknown_input_is_named(tmp_path: Path) -> None:
    table = pd.DataFrame({"x": [1, 2, 3]})
    code = code_folder(tmp_path / "code", {"train.py": """
        import sys
        import pandas as pd
        from atelier import run
        run.log("rows", len(pd.read_parquet(sys.argv[1])))
        run.log("adult_rows", len(pd.read_csv(sys.argv[2])))
        open(sys.argv[3] + "/model.txt", "w").write("m")
    """})
    manifest, outputs = run_through_runner(
        "run_script", {"script": "train.py", "arguments": "${{inputs.dataset1}} ${{inputs.adult}} ${{outputs.model}}",
                       "inputs": "adult=sample:adult-census-income"},
        tmp_path / "step", code=code, dataset1=table,
    )
    assert manifest["metrics"] == {"rows": 3.0, "adult_rows": 32561.0}, manifest["error"]
    assert (outputs["outputs"] / "model" / "model.txt").read_text() == "m"
    unknown, _ = run_through_runner(
        "run_script", {"script": "train.py", "arguments": "${{inputs.train}}"}, tmp_path / "unknown", code=code,
    )
    assert unknown["error"]["code"] == "unknown_input" and "inputs.train" in unknown["error"]["message"]


def test_outside_atelier_the_run_api_prints_instead(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text("from atelier import run\nrun.log('loss', 0.5)\nrun.tag('a', 'b')\n")
    done = subprocess.run(
        [sys.executable, str(script)], env={"PYTHONPATH": str(SCRIPT_API_DIR)}, capture_output=True, text=True, check=True,
    )
    lines = [json.loads(line.split("] ", 1)[1]) for line in done.stdout.splitlines()]
    assert lines == [{"kind": "metric", "name": "loss", "value": 0.5}, {"kind": "tag", "name": "a", "value": "b"}]
