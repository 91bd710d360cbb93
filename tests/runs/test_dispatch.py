"""Embedded dispatch: runs submitted through the API execute in a background thread of this
process after the request commits, and can be cancelled while they run."""
from __future__ import annotations

from typing import Callable

import pytest

from designer.runs.dispatch import dispatcher
from designer.runs.models import Run, StepRun
from tests.waiting import eventually

from .test_api import NODES, document

pytestmark = pytest.mark.django_db(transaction=True)

SLEEPER = (
    "import time\n"
    "def azureml_main(dataframe1=None, dataframe2=None):\n"
    "    print('sleeping', flush=True)\n"
    "    time.sleep(120)\n"
)


@pytest.fixture(autouse=True)
def threads_end_with_the_test(store_dirs):
    yield
    # The database is flushed after the test: no run thread may still be writing to it.
    dispatcher().join(timeout=60)


def terminal(run_id: str) -> Callable[[], bool]:
    return lambda: Run.objects.get(pk=run_id).status in ("completed", "failed", "cancelled")


def test_a_submitted_run_completes_in_the_background(api):
    response = api.post("/api/runs/", {"pipeline": document()}, format="json")
    assert response.status_code == 201
    run_id = response.json()["id"]
    eventually(terminal(run_id), timeout=120, what="the run to finish")
    run = Run.objects.get(pk=run_id)
    assert run.status == "completed" and run.started_at and run.finished_at
    assert set(run.steps.values_list("status", flat=True)) == {"completed"}
    assert run.steps.get(node="evaluate").metrics
    assert list(run.events.values_list("seq", flat=True)) == list(range(1, run.last_seq + 1))

    # Rerun from a node: it and what is downstream run again; what is upstream is reused.
    again = api.post(f"/api/runs/{run_id}/rerun-from/train/").json()["id"]
    eventually(terminal(again), timeout=120, what="the rerun to finish")
    statuses = dict(StepRun.objects.filter(run_id=again).values_list("node", "status"))
    assert statuses == {
        "typed": "reused", "py": "reused", "algo": "reused", "pick": "reused",
        "train": "completed", "score": "completed", "evaluate": "completed",
    }
    assert Run.objects.get(pk=again).status == "completed"


def test_cancel_a_running_run(api):
    nodes = {**NODES, "slow": {"module": "execute_python_script", "inputs": {"dataset1": "typed.dataset"},
                               "params": {"script": SLEEPER}}}
    run_id = api.post("/api/runs/", {"pipeline": document(nodes)}, format="json").json()["id"]
    eventually(lambda: StepRun.objects.get(run_id=run_id, node="slow").status == "running", timeout=120,
               what="the step to start")
    response = api.post(f"/api/runs/{run_id}/cancel/")
    assert response.status_code == 200, response.json()
    # A patience shorter than the step's two minutes of sleep: the cancel stopped it.
    eventually(terminal(run_id), timeout=60, what="the run to stop")
    run = Run.objects.get(pk=run_id)
    assert run.status == "cancelled"
    slow = run.steps.get(node="slow")
    assert slow.status == "cancelled" and slow.error["code"] == "cancelled"
    assert api.post(f"/api/runs/{run_id}/cancel/").status_code == 409


def test_a_failing_pipeline_fails_cleanly_in_the_background(api):
    nodes = {"typed": {"module": "enter_data_manually", "params": {"data": "a,b\n1,2\n3,4,5\n"}}}
    run_id = api.post("/api/runs/", {"pipeline": document(nodes)}, format="json").json()["id"]
    eventually(terminal(run_id), timeout=120, what="the run to finish")
    run = Run.objects.get(pk=run_id)
    assert run.status == "failed" and run.steps.get().error["node"] == "typed"
