"""Engine benchmark: the automobile sample through Atelier against a plain script.

    python bench/engine_bench.py [--repeat N]

Prints a table: wall times (median of N) and ratios against the plain pandas +
scikit-learn script doing the same work, measured two ways:
- whole processes, as a user runs them (`python plain.py` vs `manage.py run_pipeline`);
- inside a warm process (imports done; the engine's fork server already started).
Then the time to validate + compile generated graphs of 100 and 1,000 nodes.
Everything runs against a fresh, temporary data folder.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SAMPLE = ROOT / "designer" / "samples" / "automobile-price-regression.yaml"


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def run_process(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def graph(n: int) -> dict:
    """A binary tree of Split Data nodes below one Import Data: n nodes, n - 1 edges."""
    nodes: dict = {"n0": {"module": "import_data", "params": {"source": "sample", "name": "iris"}}}
    for i in range(1, n):
        parent = (i - 1) // 2
        nodes[f"n{i}"] = {
            "module": "split_data",
            "inputs": {"dataset": f"n{parent}.{'dataset' if parent == 0 else ('first' if i % 2 else 'second')}"},
            "params": {"fraction": 0.5, "seed": i},
        }
    return {"format": "atelier/pipeline@1", "name": f"generated-{n}", "nodes": nodes}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat

    data_dir = tempfile.mkdtemp(prefix="atelier-bench-")
    env = {**os.environ, "ATELIER_DATA_DIR": data_dir, "DJANGO_SETTINGS_MODULE": "designer.settings"}
    env.pop("DATABASE_URL", None)
    os.environ.update({"ATELIER_DATA_DIR": data_dir, "DJANGO_SETTINGS_MODULE": "designer.settings"})
    os.environ.pop("DATABASE_URL", None)
    run_process(["manage.py", "migrate", "--verbosity", "0"], env)

    rows: list[tuple[str, float]] = []
    plain_process, _ = timed(lambda: run_process(["bench/plain_automobile.py"], env), repeat)
    cli = ["manage.py", "run_pipeline", str(SAMPLE), "--json"]
    cold_process, out = timed(lambda: run_process([*cli, "--force-rerun"], env), repeat)
    r2_engine = json.loads(out)["metrics"]["evaluate"]["coefficient_of_determination"]
    cached_process, out = timed(lambda: run_process(cli, env), repeat)
    assert all(s["reused"] for s in json.loads(out)["steps"].values()), "cached run re-ran a step"
    rows += [
        ("plain script, whole process", plain_process),
        ("engine cold: run_pipeline --force-rerun, whole process", cold_process),
        ("engine cached: run_pipeline, all reused, whole process", cached_process),
    ]

    import django

    django.setup()
    import plain_automobile

    from designer.engine.compiler import compile_plan
    from designer.engine.pipeline_file import pipeline_from_data
    from designer.engine.validation import validate_pipeline
    from designer.runs import engine_config, services
    from modules.sdk import default_registry

    plain_warm, (r2_plain, _) = timed(plain_automobile.main, repeat)
    doc, plan = services.pipeline_prepare(text=SAMPLE.read_bytes())
    executor = engine_config.build_executor(lambda event: None)
    executor.run(plan, force_rerun=True)  # starts the fork server
    cold_warm, _ = timed(lambda: executor.run(plan, force_rerun=True), repeat)
    cached_warm, result = timed(lambda: services.pipeline_prepare(text=SAMPLE.read_bytes()) and executor.run(plan), repeat)
    rows += [
        ("plain work, in a warm process (imports done)", plain_warm),
        ("engine cold: 8 steps from a warm engine (a server's case)", cold_warm),
        ("engine cached: validate + compile + reuse, warm engine", cached_warm),
    ]
    registry = default_registry()
    for n in (100, 1000):
        data = graph(n)
        seconds, _ = timed(
            lambda: compile_plan(validate_pipeline(pipeline_from_data(data), registry=registry).require()), max(repeat, 5)
        )
        rows.append((f"validate + compile, {n} nodes", seconds))

    width = max(len(r[0]) for r in rows)
    print(f"\n{'measurement':<{width}}  {'seconds':>9}  {'vs script':>9}  {'vs work':>8}")
    print(f"{'-' * width}  {'-' * 9}  {'-' * 9}  {'-' * 8}")
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds:9.3f}  {seconds / plain_process:9.2f}  {seconds / plain_warm:8.1f}")
    print("\nvs script: ratio to the plain script run as a process; vs work: to its work alone, imports excluded")
    print(f"\nR² engine {r2_engine:.6f}, plain {r2_plain:.6f} (same work, same result)")
    print("targets: cold <= 2x plain; cached <= 0.2x plain; validate + compile of 1,000 nodes <= 0.1 s")


if __name__ == "__main__":
    main()
