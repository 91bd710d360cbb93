"""Docker compute benchmark: per-step overhead of local, docker cold and docker with a
warm pool, against the plain script.

    python bench/docker_bench.py [--repeat N]

Needs a Docker engine, the base image (docker/build-base-image.sh) and the default
environment's image (built here if missing). Two measurements per compute target,
each the median of N runs, from an engine already started (a server's case):
- one trivial step (Import Data of iris): its wall time is nearly all overhead;
- the automobile sample (8 steps, forced to run): (wall - the plain script's work in a
  warm process) / 8 is the overhead each step adds.
Cold: every step starts its own container. Warm pool: containers wait with their
imports done, the pool refilled between runs (as between a user's runs).
Target: docker with a warm pool <= 0.3 s of overhead per step.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import docker  # noqa: E402

import plain_automobile  # noqa: E402
from designer.engine.artifact_store import LocalArtifactStore  # noqa: E402
from designer.engine.compiler import compile_plan  # noqa: E402
from designer.engine.docker_backend import DockerBackend  # noqa: E402
from designer.engine.environments import EnvironmentBuilder, EnvironmentSpec  # noqa: E402
from designer.engine.events import Status  # noqa: E402
from designer.engine.executor import Executor  # noqa: E402
from designer.engine.local_backend import LocalBackend  # noqa: E402
from designer.engine.pipeline_file import load_pipeline, pipeline_from_data  # noqa: E402
from designer.engine.validation import validate_pipeline  # noqa: E402
from modules.sdk import default_registry  # noqa: E402

SAMPLE = ROOT / "designer" / "samples" / "automobile-price-regression.yaml"
TRIVIAL = {"format": "atelier/pipeline@1", "name": "trivial",
           "nodes": {"iris": {"module": "import_data", "params": {"source": "sample", "name": "iris"}}}}


def plan_on(doc, compute: str):
    doc = doc.model_copy(update={"settings": doc.settings.model_copy(update={"default_compute": compute})})
    return compile_plan(validate_pipeline(doc, registry=default_registry(), computes=[compute]).require())


def timed_runs(executor: Executor, plan, repeat: int, before=lambda: None) -> float:
    times = []
    for _ in range(repeat):
        before()
        started = time.perf_counter()
        result = executor.run(plan, force_rerun=True)
        times.append(time.perf_counter() - started)
        assert result.status is Status.COMPLETED, {n: s.error for n, s in result.steps.items() if s.error}
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    client = docker.from_env()
    work = Path(tempfile.mkdtemp(prefix="atelier-docker-bench-"))
    base = os.environ.get("ATELIER_DOCKER_BASE_IMAGE", "atelier-base:bookworm")
    image = EnvironmentBuilder(client=client, cache_dir=work / "environments").ensure(EnvironmentSpec("default", base)).tag
    store = LocalArtifactStore(work / "store")
    sample, trivial = load_pipeline(SAMPLE.read_text()), pipeline_from_data(TRIVIAL)
    steps = len(sample.nodes)

    plain_work = statistics.median(
        (lambda started: (plain_automobile.main(), time.perf_counter() - started)[1])(time.perf_counter())
        for _ in range(repeat)
    )

    local = LocalBackend(capacity=2)
    cold = DockerBackend(image=lambda: image, scratch_dir=work / "cold", capacity=2, warm_pool=0, client=client)
    pooled = DockerBackend(image=lambda: image, scratch_dir=work / "warm", capacity=2, warm_pool=steps, client=client)
    targets = [("local (forked process)", "local", local, lambda: None),
               ("docker cold (a container per step)", "docker", cold, lambda: None),
               (f"docker warm pool ({steps} waiting)", "docker", pooled, pooled.warm)]
    rows = []
    try:
        for label, compute, backend, before in targets:
            executor = Executor(store=store, backends={compute: backend})
            executor.run(plan_on(trivial, compute), force_rerun=True)  # starts servers, loads the image
            one = timed_runs(executor, plan_on(trivial, compute), repeat, before)
            whole = timed_runs(executor, plan_on(sample, compute), repeat, before)
            rows.append((label, one, whole, (whole - plain_work) / steps))
    finally:
        cold.shutdown()
        pooled.shutdown()

    print(f"\nplain script's work in a warm process (imports done): {plain_work:.3f} s\n")
    head = ("compute", "1 trivial step", f"automobile ({steps} steps)", "overhead / step")
    width = max(len(r[0]) for r in rows)
    print(f"{head[0]:<{width}}  {head[1]:>14}  {head[2]:>20}  {head[3]:>15}")
    print(f"{'-' * width}  {'-' * 14}  {'-' * 20}  {'-' * 15}")
    for label, one, whole, per_step in rows:
        print(f"{label:<{width}}  {one:12.3f} s  {whole:18.3f} s  {per_step:13.3f} s")
    print("\noverhead / step = (automobile wall - plain work) / steps; target: warm pool <= 0.3 s")


if __name__ == "__main__":
    main()
