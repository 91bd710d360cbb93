"""A halted run ends with the same step states whoever executes it: the embedded dispatcher
(one executor in a server thread) or the Celery orchestration (the database holds the states;
this test plays the worker by calling what a worker's task calls, with a real Redis broker
that no worker reads). Both ask designer.engine.scheduler what a halt does."""
from __future__ import annotations

from typing import Any

import pytest

from designer.runs import orchestration, services
from designer.runs.dispatch import dispatcher
from designer.runs.models import Run, StepRun
from tests.waiting import eventually

pytestmark = pytest.mark.django_db(transaction=True)

DATA = "x,y\n" + "".join(f"{i},{2 * i}\n" for i in range(20))


def script(body: str) -> str:
    return f"import time\n\ndef azureml_main(dataframe1=None, dataframe2=None):\n    {body}\n    return dataframe1,\n"


def chain(middle: str) -> dict[str, Any]:
    """data -> middle (a script) -> after -> last."""
    return {
        "data": {"module": "enter_data_manually", "params": {"data": DATA}},
        "middle": {"module": "execute_python_script", "inputs": {"dataset1": "data.dataset"},
                   "params": {"script": script(middle)}},
        "after": {"module": "select_columns", "inputs": {"dataset": "middle.dataset1"}, "params": {"columns": ["x"]}},
        "last": {"module": "select_columns", "inputs": {"dataset": "after.dataset"}, "params": {"columns": ["x"]}},
    }


def submit(user: Any, nodes: dict[str, Any]) -> Run:
    document = {"format": "atelier/pipeline@1", "name": "halts", "nodes": nodes}
    # Nothing reused: the second run computes what the first did, as the first did.
    return services.run_submit(user=user, document=document, force_rerun=True)


def states(run: Run) -> tuple[str, dict[str, tuple[str, str | None]]]:
    """The run's status, and each step's status with its error's origin."""
    run.refresh_from_db()
    return run.status, {
        row.node: (row.status, (row.error or {}).get("origin"))
        for row in StepRun.objects.filter(run=run).order_by("node")
    }


def play_the_workers(run: Run, *, until: str | None = None) -> None:
    """Execute dispatched steps as workers would, one at a time, until the run ends or the
    step `until` has been dispatched (and is left waiting in its queue)."""
    while True:
        run.refresh_from_db()
        if run.status in ("completed", "failed", "cancelled"):
            return
        waiting = StepRun.objects.filter(run=run, status="queued").exclude(task_id="").first()
        assert waiting is not None, f"run {run.pk} is {run.status} with no step dispatched"
        if waiting.node == until:
            return
        orchestration.step_execute(run_id=str(run.pk), node=waiting.node, task_id=waiting.task_id, worker="w@test")


@pytest.fixture
def embedded(store_dirs: None):
    yield
    dispatcher().join(timeout=60)  # no run thread may outlive the test's database


def failure_halt_embedded(user: Any) -> Run:
    run = submit(user, chain("raise ValueError('no')"))
    eventually(lambda: Run.objects.get(pk=run.pk).status == "failed", what="the run to fail")
    return run


def failure_halt_celery(user: Any) -> Run:
    run = submit(user, chain("raise ValueError('no')"))
    play_the_workers(run)
    return run


def cancel_halt_embedded(user: Any) -> Run:
    run = submit(user, chain("time.sleep(120)"))
    eventually(lambda: StepRun.objects.get(run=run, node="middle").status == "running", timeout=60,
               what="the script to run")
    services.run_cancel(run=run)
    eventually(lambda: Run.objects.get(pk=run.pk).status == "cancelled", timeout=60, what="the run to end")
    return run


def cancel_halt_celery(user: Any) -> Run:
    run = submit(user, chain("time.sleep(120)"))
    play_the_workers(run, until="middle")
    services.run_cancel(run=run)
    return run


def test_a_failure_halts_a_run_alike_on_both(embedded: None, distributed: None, django_user_model: Any,
                                             settings: Any) -> None:
    user = django_user_model.objects.create_user("ada")
    on_celery = states(failure_halt_celery(user))
    settings.CELERY_BROKER_URL = ""  # the same server, embedded
    on_embedded = states(failure_halt_embedded(user))

    assert on_celery == on_embedded == ("failed", {
        "after": ("skipped", None), "data": ("completed", None), "last": ("skipped", None),
        "middle": ("failed", "module"),
    })


def test_a_cancel_halts_a_run_alike_on_both(embedded: None, distributed: None, django_user_model: Any,
                                            settings: Any) -> None:
    user = django_user_model.objects.create_user("ada")
    on_celery = states(cancel_halt_celery(user))
    settings.CELERY_BROKER_URL = ""
    on_embedded = states(cancel_halt_embedded(user))

    assert on_celery == on_embedded == ("cancelled", {
        "after": ("cancelled", "user"), "data": ("completed", None), "last": ("cancelled", "user"),
        "middle": ("cancelled", "user"),
    })
