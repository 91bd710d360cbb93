"""A queued step says what it waits for, over the run's socket: its inputs, a free slot on
its compute target, the step server starting. A real WebSocket client follows a run that
this process executes once it is committed, as the server's embedded dispatcher does."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from designer.compute.models import ComputeTarget
from designer.runs import services

from .test_consumers import TIMEOUT, receive, subscribe


def test_a_queued_step_says_what_it_waits_for(server, user, session_cookie, settings, tmp_path: Path) -> None:
    # One step at a time, and a step server of its own (started by the run's first step).
    ComputeTarget.objects.filter(name="local").update(capacity=1)
    settings.ATELIER = {
        **settings.ATELIER, "ARTIFACT_STORE": tmp_path / "artifacts", "DATASETS_DIR": tmp_path / "datasets",
        "LOCAL_SCRATCH_DIR": tmp_path / "steps",
    }
    run = services.run_submit(user=user, document={
        "format": "atelier/pipeline@1",
        "name": "two tables",
        "nodes": {
            "cars": {"module": "import_data", "params": {"source": "sample", "name": "automobile-price-raw"}},
            "flowers": {"module": "import_data", "params": {"source": "sample", "name": "iris"}},
            "columns": {"module": "select_columns", "inputs": {"dataset": "cars.dataset"},
                        "params": {"columns": {"include": ["make", "price"]}}},
        },
    })

    # Every event from the first, as a client reconnecting with after=0 gets them: the run
    # started when it was committed.
    with subscribe(server, f"/ws/runs/{run.pk}/?after=0", session_cookie(user)) as ws:
        heard: list[tuple[str, str, Any]] = []
        while True:
            [message] = receive(ws, 1)
            if message["type"] == "run_status" and message["status"] in ("completed", "failed"):
                break
            if message["type"] == "step_status":
                heard.append((message["node"], message["status"], message["waiting"]))
    assert message["status"] == "completed", heard

    # The first root starts the step server; the other waits for the slot it holds.
    first, second = ("cars", "flowers") if ("cars", "queued", "step_server") in heard else ("flowers", "cars")
    assert (first, "queued", "step_server") in heard, heard
    assert (second, "queued", "slot") in heard, heard
    assert ("columns", "queued", "inputs") in heard, heard
    # Started, a step waits for nothing more.
    assert all(waiting is None for _, status, waiting in heard if status != "queued"), heard
