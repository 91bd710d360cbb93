"""`submit_pipeline` against a real server: submit, follow live over the WebSocket (API
token), summary and exit code as `run_pipeline --json` gives them."""
from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from designer.runs.models import Run
from tests.cluster import ROOT
from tests.waiting import eventually

from .conftest import SAMPLES, submit_command

pytestmark = pytest.mark.django_db(transaction=True)

FAILING = """\
format: atelier/pipeline@1
name: failing-sql
nodes:
  cars:
    module: import_data
    params: {source: sample, name: automobile-price-raw}
  broken:
    module: apply_sql_transformation
    inputs: {t1: cars.dataset}
    params:
      query: select no_such_column from t1
"""

INVALID = """\
format: atelier/pipeline@1
name: invalid
nodes:
  cars:
    module: import_data
    params: {source: sample, name: automobile-price-raw}
  mystery:
    module: no_such_module
    inputs: {dataset: cars.dataset}
"""


def _server_summary(run: Run) -> dict[str, Any]:
    steps, metrics = {}, {}
    for step in run.steps.all():
        entry = {"status": step.status, "reused": step.reused, "duration_s": step.duration_s or 0.0}
        if step.error:
            entry["error"] = step.error
        steps[step.node] = entry
        if step.metrics:
            metrics[step.node] = step.metrics
    return {"run_id": str(run.pk), "status": run.status, "steps": steps, "metrics": metrics}


def test_a_sample_runs_to_completion_with_live_steps_and_the_servers_summary(submit: Callable[..., Any]) -> None:
    result = submit(SAMPLES / "sql-transformation.yaml", "--json")

    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    run = Run.objects.get(pk=summary["run_id"])
    assert summary == _server_summary(run)
    assert summary["status"] == "completed"
    assert set(summary["steps"]) == {"cars", "by_make", "summary"}
    # The live view (stderr with --json): one line per step state change, as run_pipeline's.
    for node in ("cars", "by_make", "summary"):
        assert any(line.split()[1:3] == [node, "completed"] for line in result.stderr.splitlines()), result.stderr
    assert "polling" not in result.stderr  # followed over the WebSocket
    assert "Traceback" not in result.stderr


def test_the_text_summary_names_the_run_and_its_steps(submit: Callable[..., Any]) -> None:
    result = submit(SAMPLES / "sql-transformation.yaml")

    assert result.returncode == 0, result.stderr
    assert "completed" in result.stdout.split("\n\n")[1]
    assert "by_make" in result.stdout


def test_an_invalid_pipeline_gives_the_servers_errors_and_exit_1(submit: Callable[..., Any], tmp_path: Path) -> None:
    file = tmp_path / "invalid.yaml"
    file.write_text(INVALID)

    text = submit(file)
    assert text.returncode == 1
    assert "node 'mystery'" in text.stdout + text.stderr
    assert "Traceback" not in text.stderr

    as_json = submit(file, "--json")
    assert as_json.returncode == 1
    document = json.loads(as_json.stdout)
    assert document["run_id"] is None and document["status"] == "failed"
    assert any(error.get("node") == "mystery" for error in document["errors"])
    assert not Run.objects.exists()


def test_a_wrong_token_is_a_clear_error_with_exit_2(submit: Callable[..., Any]) -> None:
    result = submit(SAMPLES / "sql-transformation.yaml", "--json", token="not-a-token")

    assert result.returncode == 2
    assert "refused the token" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_no_token_and_a_bad_url_are_clear_errors_with_exit_2(submit: Callable[..., Any]) -> None:
    result = submit(SAMPLES / "sql-transformation.yaml", token=None)
    assert result.returncode == 2 and "ATELIER_TOKEN" in result.stderr

    result = submit(SAMPLES / "sql-transformation.yaml", "--url", "http://127.0.0.1:1")
    assert result.returncode == 2 and "cannot reach" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_failing_pipeline_exits_1_with_the_steps_error(submit: Callable[..., Any], tmp_path: Path) -> None:
    file = tmp_path / "failing.yaml"
    file.write_text(FAILING)

    result = submit(file, "--json")

    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "failed"
    assert summary["steps"]["broken"]["status"] == "failed"
    assert summary["steps"]["broken"]["error"]["message"]
    assert summary["steps"]["cars"]["status"] in ("completed", "reused")
    assert summary == _server_summary(Run.objects.get(pk=summary["run_id"]))


SLOW = """\
format: atelier/pipeline@1
name: slow
nodes:
  cars:
    module: import_data
    params: {source: sample, name: automobile-price-raw}
  sleepy:
    module: execute_python_script
    inputs: {dataset1: cars.dataset}
    params:
      script: |
        import time


        def azureml_main(dataframe1=None, dataframe2=None):
            time.sleep(120)
            return dataframe1
"""


def test_ctrl_c_cancels_the_run_on_the_server_and_waits_for_its_end(
    server: Any, token: str, tmp_path: Path
) -> None:
    file = tmp_path / "slow.yaml"
    file.write_text(SLOW)
    argv, env = submit_command(file, server.origin, token, "--json")
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def sleepy_running() -> bool:
            assert process.poll() is None, "submit_pipeline ended before its step ran"
            return Run.objects.filter(steps__node="sleepy", steps__status="running").exists()

        eventually(sleepy_running, timeout=120, what="the sleepy step to run")
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 1, stderr
    summary = json.loads(stdout)
    assert summary["status"] == "cancelled"
    assert summary["steps"]["sleepy"]["status"] == "cancelled"
    assert "Cancelling" in stderr and "Traceback" not in stderr
    assert Run.objects.get(pk=summary["run_id"]).status == "cancelled"


def test_a_dropped_websocket_resumes_after_the_last_event(server: Any, token: str, user: Any) -> None:
    """The follower reconnects with ?after=<seq> and shows each transition once."""
    import io

    from designer.runs import services
    from designer.runs.console import LiveConsole
    from designer.runs.management.commands.submit_pipeline import Api, Follower

    run = services.run_submit(user=user, text=(SAMPLES / "sql-transformation.yaml").read_bytes())
    api = Api(server.origin, token)
    live = io.StringIO()
    follower = Follower(api, str(run.pk), LiveConsole(live), live, {})
    urls: list[str] = []
    received = 0
    original = follower._message

    def drop_after_two(message: dict[str, Any]) -> None:
        nonlocal received
        original(message)
        received += 1
        if received == 2 and not follower.finished:
            raise ConnectionResetError("a network blip")

    original_url = follower._ws_url
    follower._ws_url = lambda: urls.append(original_url()) or urls[-1]  # type: ignore[method-assign]
    follower._message = drop_after_two  # type: ignore[method-assign]
    follower.follow()

    assert follower.finished and follower.use_websocket
    assert len(urls) >= 2 and "after=" not in urls[0] and "after=" in urls[1]
    lines = [line.split()[1:3] for line in live.getvalue().splitlines()]
    for node in ("cars", "by_make", "summary"):
        assert lines.count([node, "completed"]) == 1, live.getvalue()


def test_a_server_without_websockets_is_followed_by_polling(
    http_only_server: Any, token: str, tmp_path: Path
) -> None:
    argv, env = submit_command(SAMPLES / "sql-transformation.yaml", http_only_server.origin, token, "--json")
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)

    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary == _server_summary(Run.objects.get(pk=summary["run_id"]))
    assert "polling" in result.stderr
