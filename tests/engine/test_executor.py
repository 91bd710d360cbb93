"""The executor on the local compute target: real step processes, a real artifact store."""
from __future__ import annotations

import os
import textwrap
import threading
import uuid

import pytest

from designer.engine.artifact_store import LocalArtifactStore
from designer.engine.compiler import compile_plan
from designer.engine.events import Status, StepLogEvent, StepProgressEvent, StepStatusEvent
from designer.engine.executor import Executor
from designer.engine.local_backend import LocalBackend, StepLimits
from designer.engine.pipeline_file import pipeline_from_data
from designer.engine.validation import validate_pipeline
from modules.sdk import default_registry
from tests.waiting import eventually

IRIS = {"module": "import_data", "params": {"source": "sample", "name": "iris"}}


def script(body: str, *, inputs: str | None = "iris.dataset", **node) -> dict:
    code = "import os, sys, time\n\ndef azureml_main(dataframe1=None, dataframe2=None):\n" + textwrap.indent(
        textwrap.dedent(body).strip() + "\n", "    "
    )
    return {"module": "execute_python_script", "inputs": {"dataset1": inputs} if inputs else {},
            "params": {"script": code}, **node}


def plan_of(nodes: dict, **settings):
    doc = pipeline_from_data({"format": "atelier/pipeline@1", "name": "t", "settings": settings, "nodes": nodes})
    return compile_plan(validate_pipeline(doc, registry=default_registry()).require())


class Recorder(list):
    def __call__(self, event):
        self.append(event)

    def states(self, node):
        return [e.status for e in self if isinstance(e, StepStatusEvent) and e.node == node]

    def logs(self, node):
        return [line for e in self if isinstance(e, StepLogEvent) and e.node == node for line in e.lines]


@pytest.fixture
def store(tmp_path):
    return LocalArtifactStore(tmp_path / "store")


@pytest.fixture
def events():
    return Recorder()


@pytest.fixture
def make_executor(store, events):
    def make(capacity=2, **kw):
        return Executor(store=store, backends={"local": LocalBackend(capacity=capacity)}, on_event=events, **kw)

    return make


def leftovers(store):
    return list((store.root / "tmp").iterdir())


def test_a_run_completes_then_a_second_run_reuses_every_step(make_executor, events, store):
    plan = plan_of({"iris": IRIS, "double": script("return dataframe1 * 1,")})
    first = make_executor().run(plan, run_id="r1")
    assert first.status is Status.COMPLETED
    assert first.steps["double"].outputs["dataset1"]["rows"] == 150
    assert events.states("double") == [Status.QUEUED, Status.RUNNING, Status.COMPLETED]
    events.clear()

    second = make_executor().run(plan, run_id="r2")
    assert second.status is Status.COMPLETED
    assert all(s.reused and s.status is Status.REUSED for s in second.steps.values())
    assert second.steps["double"].reused_from == "r1"
    assert events.states("double") == [Status.QUEUED, Status.REUSED]
    assert second.steps["double"].outputs == first.steps["double"].outputs
    assert leftovers(store) == []


def test_force_rerun_per_run_and_per_node(make_executor):
    plan = plan_of({"iris": IRIS, "copy": script("return dataframe1,")})
    make_executor().run(plan)
    forced = make_executor().run(plan, force_rerun=True)
    assert not any(s.reused for s in forced.steps.values())
    one = make_executor().run(plan, force_nodes={"copy"})
    assert one.steps["iris"].reused and not one.steps["copy"].reused
    node_forced = plan_of({"iris": IRIS, "copy": script("return dataframe1,", force_rerun=True)})
    result = make_executor().run(node_forced)
    assert result.steps["iris"].reused and not result.steps["copy"].reused


def test_a_changed_param_reruns_that_step_and_what_is_downstream_only(make_executor):
    nodes = {"iris": IRIS, "a": script("return dataframe1,"), "b": script("return dataframe1,", inputs="a.dataset1")}
    make_executor().run(plan_of(nodes))
    nodes["a"] = script("return dataframe1.head(10),")
    result = make_executor().run(plan_of(nodes))
    assert [result.steps[n].reused for n in ("iris", "a", "b")] == [True, False, False]


def test_independent_steps_run_in_parallel_up_to_capacity(make_executor):
    nodes = {"iris": IRIS, **{name: script("time.sleep(0.6)\nreturn dataframe1,") for name in ("a", "b", "c")}}

    def overlaps(result, x, y):
        sx, sy = result.steps[x], result.steps[y]
        return sx.started_at < sy.finished_at and sy.started_at < sx.finished_at

    two = make_executor(capacity=2).run(plan_of(nodes), force_rerun=True)
    pairs = [("a", "b"), ("a", "c"), ("b", "c")]
    assert sum(overlaps(two, x, y) for x, y in pairs) >= 1
    one = make_executor(capacity=1).run(plan_of(nodes), force_rerun=True)
    assert not any(overlaps(one, x, y) for x, y in pairs)


def test_logs_stream_while_the_step_runs(make_executor, events):
    plan = plan_of({"iris": IRIS, "talk": script("print('hello from the script')\nprint('rows', len(dataframe1))\nreturn dataframe1,")})
    make_executor().run(plan)
    assert events.logs("talk")[:2] == ["hello from the script", "rows 150"]
    log_at = next(i for i, e in enumerate(events) if isinstance(e, StepLogEvent) and e.node == "talk")
    done_at = next(i for i, e in enumerate(events) if isinstance(e, StepStatusEvent) and e.node == "talk" and e.status.terminal)
    assert log_at < done_at


def test_a_script_error_fails_the_step_with_the_script_line_and_skips_downstream(make_executor, store):
    nodes = {
        "iris": IRIS,
        "boom": script("x = 1\nreturn 1 / 0"),
        "after": script("return dataframe1,", inputs="boom.dataset1"),
    }
    result = make_executor().run(plan_of(nodes))
    assert result.status is Status.FAILED
    error = result.steps["boom"].error
    assert error["node"] == "boom" and error["param"] == "script" and error["origin"] == "module"
    assert "line 5" in error["message"] and "ZeroDivisionError" in error["message"]
    assert result.steps["after"].status is Status.SKIPPED
    assert leftovers(store) == []


def test_continue_on_step_failure_lets_independent_branches_finish(make_executor):
    nodes = {
        "iris": IRIS,
        "boom": script("raise ValueError('bad')"),
        "slow": script("time.sleep(0.5)\nreturn dataframe1,"),
        "after_slow": script("return dataframe1,", inputs="slow.dataset1"),
    }
    stopped = make_executor(capacity=1).run(plan_of(nodes))
    assert stopped.steps["boom"].status is Status.FAILED
    assert stopped.steps["after_slow"].status is Status.SKIPPED
    going = make_executor(capacity=1).run(plan_of(nodes, continue_on_step_failure=True), force_rerun=True)
    assert going.status is Status.FAILED
    assert going.steps["after_slow"].status is Status.COMPLETED


def test_a_step_over_its_timeout_is_stopped(make_executor):
    token = f"atelier-test-{uuid.uuid4().hex}"
    sleeper = script(f"""
        import subprocess
        subprocess.run([sys.executable, "-c", "import time; time.sleep(60)", {token!r}])
    """, timeout=1)
    result = make_executor().run(plan_of({"iris": IRIS, "sleepy": sleeper}))
    assert result.steps["sleepy"].status is Status.FAILED
    assert result.steps["sleepy"].error["code"] == "timeout"
    assert "1 s timeout" in result.steps["sleepy"].error["message"]
    assert processes_with(token) == [], "the step and what it started are stopped, not left to sleep"


def processes_with(token: str) -> list[int]:
    """The host's processes whose command line holds `token` (seen from outside any sandbox)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and token.encode() in open(f"/proc/{entry}/cmdline", "rb").read():
                found.append(int(entry))
        except OSError:
            pass  # ended meanwhile
    return found


def test_cancel_stops_running_steps_and_their_children(make_executor, events):
    token = f"atelier-test-{uuid.uuid4().hex}"
    plan = plan_of({
        "iris": IRIS,
        # A child in a session of its own: out of the step's process group, not out of reach.
        "sleepy": script(f"""
            import subprocess
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", {token!r}], start_new_session=True)
            print("child started", flush=True)
            time.sleep(600)
        """),
        "after": script("return dataframe1,", inputs="sleepy.dataset1"),
    })
    executor = make_executor()

    def cancel_when_running():
        eventually(lambda: "child started" in events.logs("sleepy"), timeout=60)
        executor.cancel()

    threading.Thread(target=cancel_when_running).start()
    result = executor.run(plan)
    assert result.status is Status.CANCELLED
    assert result.steps["sleepy"].status is Status.CANCELLED
    assert result.steps["after"].status is Status.CANCELLED
    assert processes_with(token) == []


def test_a_crashing_step_process_is_reported_not_hung(make_executor):
    plan = plan_of({"iris": IRIS, "crash": script("os.kill(os.getpid(), 9)")})
    result = make_executor().run(plan)
    error = result.steps["crash"].error
    assert error["code"] == "step_crashed" and "SIGKILL" in error["message"]
    assert error["origin"] == "infrastructure"


def test_a_step_over_its_memory_limit_fails_as_a_limit_not_a_bug(store):
    backends = {"local": LocalBackend(capacity=1, limits=StepLimits(memory_mb=2048))}
    plan = plan_of({"iris": IRIS, "hog": script("blob = bytearray(20 * 2**30)\nreturn dataframe1,")})
    result = Executor(store=store, backends=backends).run(plan)
    error = result.steps["hog"].error
    assert (error["origin"], error["node"]) == ("memory_limit", "hog"), error
    assert "memory" in error["message"]
    assert result.steps["iris"].status is Status.COMPLETED


def test_a_compute_target_that_cannot_start_steps_fails_them_clearly(store):
    class Broken:
        name, capacity, starts_slowly = "local", 1, False

        def start(self, request, step_dir):
            raise OSError("no space left on device")

    result = Executor(store=store, backends={"local": Broken()}).run(plan_of({"iris": IRIS}))
    error = result.steps["iris"].error
    assert result.status is Status.FAILED
    assert (error["code"], error["origin"]) == ("compute_error", "infrastructure")
    assert "no space left on device" in error["message"]
    assert leftovers(store) == []


def test_artifacts_are_content_addressed_and_read_only(make_executor, store):
    plan = plan_of({"iris": IRIS, "a": script("return dataframe1,"), "b": script("return dataframe1,")})
    result = make_executor().run(plan)
    digest_a = result.steps["a"].outputs["dataset1"]["artifact"]
    assert digest_a == result.steps["b"].outputs["dataset1"]["artifact"]
    folder = store.path(digest_a)
    assert folder.is_dir()
    with pytest.raises(PermissionError):
        if os.geteuid() == 0:  # root ignores file modes; check the mode itself
            assert not (folder / "table.parquet").stat().st_mode & 0o222
            raise PermissionError
        (folder / "table.parquet").write_bytes(b"")


def test_runs_going_on_at_once_share_the_targets_capacity(store):
    """Two runs in one process (as the server runs them), one local slot between them: their
    steps take turns, and neither run mistakes waiting for the slot for a blocked graph."""
    backend = LocalBackend(capacity=1)
    nodes = {"iris": IRIS, "nap": script("time.sleep(0.5)\nreturn dataframe1,")}
    results = {}

    def run(name):
        executor = Executor(store=store, backends={"local": backend})
        results[name] = executor.run(plan_of(nodes), force_rerun=True)

    threads = [threading.Thread(target=run, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    steps = [result.steps[node] for result in results.values() for node in ("iris", "nap")]
    assert all(step.status is Status.COMPLETED for step in steps)
    spans = sorted((step.started_at, step.finished_at) for step in steps)
    assert all(earlier[1] <= later[0] for earlier, later in zip(spans, spans[1:])), "two steps ran at once"


def test_what_a_step_prints_is_bounded_and_never_breaks_the_host(make_executor, events):
    plan = plan_of({"iris": IRIS, "loud": script("""
        sys.stdout.write("x" * (5 * 2**20))  # one line of 5 MB, never ended
        sys.stdout.flush()
        print()
        print('::atelier::{"type": "progress", "fraction": "most"}')
        print('::atelier::{"type": "metric", "name": "auc"}')
        print('::atelier::not json')
        print('::atelier::{"type": "progress", "fraction": 0.5, "message": "half"}', flush=True)
        return dataframe1,
    """)})
    result = make_executor().run(plan)
    assert result.steps["loud"].status is Status.COMPLETED
    lines = events.logs("loud")
    assert max(len(line) for line in lines) < 70 * 1024 and any(line.endswith("[line cut]") for line in lines)
    progress = [e for e in events if isinstance(e, StepProgressEvent) and e.node == "loud"]
    assert [(e.fraction, e.message) for e in progress][-1] == (0.5, "half")
