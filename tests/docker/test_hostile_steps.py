"""Hostile step code in a container fails its own step with a clear reason; the host and
the other steps of the run go on unharmed."""
from __future__ import annotations

from pathlib import Path

import pytest

from designer.engine.events import Status
from designer.engine.executor import Executor

from .conftest import IRIS, plan_of, script

ROOT = Path(__file__).resolve().parents[2]
BYSTANDER = script("return dataframe1.describe().reset_index(),")


def run_hostile(make_backend, store, events, body: str, **node):
    """Run `body` next to a well-behaved step; return the hostile step's result."""
    plan = plan_of({"iris": IRIS, "hostile": script(body, **node), "bystander": BYSTANDER},
                   continue_on_step_failure=True)
    result = Executor(store=store, backends={"docker": make_backend(capacity=2)}, on_event=events).run(plan)
    assert result.steps["bystander"].status is Status.COMPLETED, [s.error["message"] for s in result.steps.values() if s.error]
    hostile = result.steps["hostile"]
    assert hostile.status is Status.FAILED
    return hostile


def test_network_access_is_unreachable(make_backend, store, events):
    step = run_hostile(make_backend, store, events, """
        import socket
        socket.create_connection(("1.1.1.1", 80), timeout=5)
    """)
    assert "Network is unreachable" in step.error["message"]


@pytest.mark.parametrize("target", [
    "/usr/local/lib/evil.py",                        # the image
    "/opt/atelier/modules/evil.py",                  # Atelier's own code
    "/atelier/in/dataset1/evil.parquet",             # the step's own inputs (shared artifacts)
])
def test_writing_outside_the_output_folder_is_refused(make_backend, store, events, target):
    step = run_hostile(make_backend, store, events, f"""
        with open({target!r}, "a") as f:
            f.write("owned")
    """)
    assert "Read-only file system" in step.error["message"]
    assert not (ROOT / "modules" / "evil.py").exists()
    assert not any(store.root.rglob("evil*"))


def test_host_files_are_not_visible(make_backend, store, events):
    host_file = ROOT / "designer" / "settings" / "base.py"
    step = run_hostile(make_backend, store, events, f"""
        print(open({str(host_file)!r}).read())
    """)
    assert "No such file or directory" in step.error["message"]


def test_the_docker_socket_is_not_reachable(make_backend, store, events):
    step = run_hostile(make_backend, store, events, """
        import socket
        for path in ("/var/run/docker.sock", "/run/docker.sock"):
            if os.path.exists(path):
                raise RuntimeError(f"{path} is visible")
        conn = socket.socket(socket.AF_UNIX)
        conn.connect("/var/run/docker.sock")
    """)
    assert "No such file or directory" in step.error["message"]


def test_a_fork_bomb_hits_the_process_limit(make_backend, store, events):
    step = run_hostile(make_backend, store, events, """
        while True:
            os.fork()
    """, timeout=60)
    # Its processes hit the process limit, or their copied memory the memory limit first.
    assert any(reason in step.error["message"] for reason in ("Resource temporarily unavailable", "memory limit exceeded"))


def test_ten_times_the_memory_limit_is_stopped(make_backend, store, events):
    step = run_hostile(make_backend, store, events, """
        import numpy as np
        hog = np.ones(10 * 512 * 1024 * 1024, dtype=np.uint8)
        return dataframe1,
    """)
    assert step.error["code"] == "memory_limit_exceeded" and step.error["origin"] == "memory_limit"
    assert "memory limit exceeded" in step.error["message"]


def test_an_infinite_loop_is_stopped_at_its_timeout(make_backend, store, events):
    step = run_hostile(make_backend, store, events, """
        while True:
            pass
    """, timeout=5)
    assert step.error["code"] == "timeout"
    assert "timeout" in step.error["message"]
