"""Local sandbox benchmark: what the bubblewrap sandbox adds to each local step.

    python bench/sandbox_bench.py [--repeat N] [--steps N]

From step servers already started (a server's case), the median of N runs of:
- a chain of trivial steps (Execute Python Script returning its input), one at a time, so
  that a run's wall time divided by its steps is the per-step cost;
- the automobile sample (8 steps, forced to run).
each on local compute without the sandbox and with it, against the plain script's work in
a warm process. Target: the sandbox adds <= 20 ms per step.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import plain_automobile  # noqa: E402
from designer.engine.artifact_store import LocalArtifactStore  # noqa: E402
from designer.engine.compiler import compile_plan  # noqa: E402
from designer.engine.events import Status  # noqa: E402
from designer.engine.executor import Executor  # noqa: E402
from designer.engine.local_backend import LocalBackend, sandbox_unavailable  # noqa: E402
from designer.engine.pipeline_file import load_pipeline, pipeline_from_data  # noqa: E402
from designer.engine.validation import validate_pipeline  # noqa: E402
from modules.sdk import default_registry  # noqa: E402

SAMPLE = ROOT / "designer" / "samples" / "automobile-price-regression.yaml"
SCRIPT = "def azureml_main(dataframe1=None, dataframe2=None):\n    return dataframe1,\n"


def chain(steps: int):
    nodes = {"s0": {"module": "import_data", "params": {"source": "sample", "name": "iris"}}}
    for index in range(1, steps):
        nodes[f"s{index}"] = {"module": "execute_python_script", "params": {"script": SCRIPT},
                              "inputs": {"dataset1": f"s{index - 1}." + ("dataset" if index == 1 else "dataset1")}}
    return pipeline_from_data({"format": "atelier/pipeline@1", "name": "chain", "nodes": nodes})


def timed(executor: Executor, plan, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = executor.run(plan, force_rerun=True)
        times.append(time.perf_counter() - started)
        assert result.status is Status.COMPLETED, {n: s.error for n, s in result.steps.items() if s.error}
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    if sandbox_unavailable():
        sys.exit(f"no sandbox here: {sandbox_unavailable()}")
    work = Path(tempfile.mkdtemp(prefix="atelier-sandbox-bench-"))
    store = LocalArtifactStore(work / "store")
    plans = {
        "chain": compile_plan(validate_pipeline(chain(args.steps), registry=default_registry()).require()),
        "automobile": compile_plan(validate_pipeline(load_pipeline(SAMPLE.read_text()), registry=default_registry()).require()),
    }
    plain_work = statistics.median(
        (lambda started: (plain_automobile.main(), time.perf_counter() - started)[1])(time.perf_counter())
        for _ in range(args.repeat)
    )
    rows = {}
    for label, sandbox in (("local, no sandbox", False), ("local, sandboxed", True)):
        backend = LocalBackend(capacity=1, sandbox=sandbox, scratch_dir=work / label.replace(" ", "_").replace(",", ""))
        executor = Executor(store=store, backends={"local": backend})
        executor.run(plans["chain"], force_rerun=True)  # starts the step server
        rows[label] = {name: timed(executor, plan, args.repeat) for name, plan in plans.items()}

    automobile_steps = len(plans["automobile"].steps)
    print(f"\nplain automobile script's work in a warm process: {plain_work:.3f} s\n")
    print(f"{'compute':<20}  {'per chained step':>16}  {'automobile':>11}  {'vs plain':>8}")
    print(f"{'-' * 20}  {'-' * 16}  {'-' * 11}  {'-' * 8}")
    for label, times in rows.items():
        per_step = times["chain"] / args.steps
        print(f"{label:<20}  {per_step * 1000:13.1f} ms  {times['automobile']:9.3f} s  {times['automobile'] / plain_work:7.2f}x")
    added = (rows["local, sandboxed"]["chain"] - rows["local, no sandbox"]["chain"]) / args.steps
    added_auto = (rows["local, sandboxed"]["automobile"] - rows["local, no sandbox"]["automobile"]) / automobile_steps
    print(f"\nthe sandbox adds {added * 1000:.1f} ms per chained step, {added_auto * 1000:.1f} ms per automobile step"
          " (target: <= 20 ms)")


if __name__ == "__main__":
    main()
