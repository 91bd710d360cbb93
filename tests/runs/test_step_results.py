"""A step's results are recorded as the step ends, in a run this process executes: whoever
hears that it completed (the run panel, over the run's socket) finds its outputs, while the
run's other steps still run."""
from __future__ import annotations

from typing import Any

import pytest

from designer.engine.events import Event, Status, StepStatusEvent
from designer.runs import execution, services
from designer.runs.models import Run, StepRun

pytestmark = pytest.mark.django_db


def test_a_step_s_outputs_are_there_when_its_completion_is_heard(user: Any, store_dirs: Any) -> None:
    run = services.run_submit(user=user, document={
        "format": "atelier/pipeline@1",
        "name": "cars",
        "nodes": {
            "cars": {"module": "import_data", "params": {"source": "sample", "name": "automobile-price-raw"}},
            "columns": {"module": "select_columns", "inputs": {"dataset": "cars.dataset"},
                        "params": {"columns": {"include": ["make", "price"]}}},
        },
    })
    heard: dict[str, Any] = {}

    def listen(event: Event) -> None:
        # Called once the event is recorded, as the run's subscribers would hear it.
        if isinstance(event, StepStatusEvent) and event.node == "cars" and event.status is Status.COMPLETED:
            heard["outputs"] = StepRun.objects.get(run=run, node="cars").outputs
            heard["run"] = Run.objects.get(pk=run.pk).status

    execution.run_execute(run=run, on_event=listen)
    assert heard["run"] == Status.RUNNING.value
    assert set(heard["outputs"]) == {"dataset"}
    assert StepRun.objects.get(run=run, node="columns").outputs["dataset"]
