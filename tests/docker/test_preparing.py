"""A docker step whose container is slow to come up (its environment being built, say) is
"preparing": the run's other steps go on meanwhile, cancel is heard at once, and the step's
timeout counts from when it runs."""
from __future__ import annotations

import threading
import time

from designer.engine.events import Status
from designer.engine.executor import Executor
from designer.engine.local_backend import LocalBackend
from tests.waiting import eventually

from .conftest import IRIS, plan_of, script

def states(events, node):
    return [event.status for event in events.statuses(node)]


PLAN = {
    "iris": IRIS,
    "boxed": script("return dataframe1.head(5),", compute="docker", timeout=3),
    "beside": script("print('beside ran', flush=True)\nreturn dataframe1,"),
}


def test_other_steps_go_on_while_a_docker_step_is_prepared(make_backend, default_image, store, events):
    gate = threading.Event()
    # Its image takes a while to be ready, as a first environment build does.
    docker = make_backend(capacity=1, image=lambda: (gate.wait(60), default_image)[1])
    executor = Executor(store=store, backends={"local": LocalBackend(capacity=2), "docker": docker}, on_event=events)
    plan = plan_of(PLAN, computes=("local", "docker"), default_compute="local")
    done = {}
    worker = threading.Thread(target=lambda: done.setdefault("result", executor.run(plan)))
    worker.start()
    try:
        eventually(lambda: Status.COMPLETED in states(events, "beside"), timeout=60, what="the local step to end")
        assert states(events, "boxed")[-1] is Status.PREPARING
        assert events.logs("beside") == ["beside ran"]
        time.sleep(4)  # longer than the step's timeout: preparing is not the step's time
    finally:
        gate.set()
        worker.join(60)
    result = done["result"]
    assert result.status is Status.COMPLETED, {n: s.error for n, s in result.steps.items() if s.error}
    assert states(events, "boxed") == [Status.QUEUED, Status.PREPARING, Status.RUNNING, Status.COMPLETED]
    assert result.steps["boxed"].placement["image"] == default_image
    assert result.steps["boxed"].outputs["dataset1"]["rows"] == 5


def test_cancel_while_a_docker_step_is_prepared_ends_the_run_at_once(make_backend, default_image, store, events):
    gate, built = threading.Event(), threading.Event()

    def image():
        gate.wait()  # opened once the run has ended (or the test failed)
        built.set()
        return default_image

    docker = make_backend(capacity=1, image=image)
    executor = Executor(store=store, backends={"local": LocalBackend(capacity=1), "docker": docker}, on_event=events)
    plan = plan_of({"iris": {**IRIS, "compute": "local"}, "boxed": PLAN["boxed"]}, computes=("local", "docker"))
    done = {}
    worker = threading.Thread(target=lambda: done.setdefault("result", executor.run(plan)))
    worker.start()
    try:
        eventually(lambda: Status.PREPARING in states(events, "boxed"), timeout=60, what="the step to be preparing")
        executor.cancel()
        worker.join(60)
        # Its image cannot be ready while the gate is closed: the run ended without it.
        assert not worker.is_alive() and not built.is_set(), "cancel does not wait for the image"
    finally:
        gate.set()
    assert done["result"].status is Status.CANCELLED
    assert states(events, "boxed")[-1] is Status.CANCELLED
    # The container started after the cancel is stopped and removed (the fixture checks no
    # container is left once the backend shuts down).
    assert built.wait(10)
    eventually(lambda: not any(store.root.glob("tmp/*")), what="the abandoned step's folder to be discarded")
