"""Job benchmark: the overhead of a job whose script does nothing, and snapshots of a large folder.

    python bench/job_bench.py [--repeat N] [--no-docker]

A job here is what `submit_job` does below the database: snapshot the folder, compile the
one-node Run Script pipeline, run it. The script logs the time it starts and ends; the
table splits each job's wall time into submit -> script start, and script end -> completed
(medians of N jobs), on local compute (the sandboxed step server, warm) and on docker with
a warm pool. Targets: local <= 0.3 s, docker warm pool <= 1 s (each part).
Snapshot: a folder of 10,000 small files, first stored, then found unchanged (target <= 1 s).
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

from designer.engine.artifact_store import LocalArtifactStore  # noqa: E402
from designer.engine.compiler import compile_plan  # noqa: E402
from designer.engine.events import Event, StepMetricEvent, Status  # noqa: E402
from designer.engine.executor import Executor  # noqa: E402
from designer.engine.job_file import job_pipeline, load_job  # noqa: E402
from designer.engine.local_backend import LocalBackend  # noqa: E402
from designer.engine.pipeline_file import pipeline_from_data  # noqa: E402
from designer.engine.snapshots import snapshot_take  # noqa: E402
from designer.engine.validation import validate_pipeline  # noqa: E402
from modules.sdk import default_registry  # noqa: E402

SCRIPT = "import time\nfrom atelier import run\nrun.log('started', time.time())\nrun.log('ended', time.time())\n"


def one_job(executor: Executor, folder: Path, store: LocalArtifactStore, compute: str, seen: dict[str, float]) -> tuple[float, float]:
    """(submit -> script start, script end -> completed) of one job, in seconds."""
    seen.clear()
    submitted = time.time()
    snapshot = snapshot_take(folder, store=store)
    doc = load_job("format: atelier/job@1\nname: nothing\nscript: main.py\n")
    pipeline = pipeline_from_data(job_pipeline(doc, snapshot=snapshot.digest, compute=compute))
    plan = compile_plan(validate_pipeline(pipeline, registry=default_registry(), computes=[compute]).require())
    result = executor.run(plan)
    completed = time.time()
    assert result.status is Status.COMPLETED, result.steps["job"].error
    return seen["started"] - submitted, completed - seen["ended"]


def measure(label: str, compute: str, backend, folder: Path, store: LocalArtifactStore, repeat: int) -> tuple:
    seen: dict[str, float] = {}

    def on_event(event: Event) -> None:
        if isinstance(event, StepMetricEvent) and event.value is not None:
            seen[event.name] = event.value

    executor = Executor(store=store, backends={compute: backend}, on_event=on_event)
    one_job(executor, folder, store, compute, seen)  # starts the step server, loads the image
    parts = []
    for _ in range(repeat):
        if hasattr(backend, "warm"):
            backend.warm()  # the pool refilled between jobs, as between a user's submissions
        parts.append(one_job(executor, folder, store, compute, seen))
    return label, statistics.median(p[0] for p in parts), statistics.median(p[1] for p in parts)


def snapshot_times(work: Path) -> list[tuple[float, float]]:
    """(wall, CPU) seconds of a first snapshot of 10,000 files, then of the folder unchanged.
    The CPU time (this process's, the kernel's work for it included) is what the wall time
    would be on a quiet machine; on a shared one the wall time also counts waiting for a core."""
    folder = work / "many"
    for index in range(10_000):
        sub = folder / f"pkg{index // 500}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"m{index}.py").write_text(f"X = {index}\n")
    (folder / ".amlignore").write_text("*.pyc\n")
    store = LocalArtifactStore(work / "snapshot-store")
    times = []
    for reused in (False, True):
        started, cpu = time.perf_counter(), time.process_time()
        assert snapshot_take(folder, store=store).reused is reused
        times.append((time.perf_counter() - started, time.process_time() - cpu))
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-docker", action="store_true")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="atelier-job-bench-"))
    folder = work / "code"
    folder.mkdir()
    (folder / "main.py").write_text(SCRIPT)
    store = LocalArtifactStore(work / "store")

    rows = [measure("local (sandboxed step server)", "local", LocalBackend(capacity=2), folder, store, options.repeat)]
    if not options.no_docker:
        import docker

        from designer.engine.docker_backend import DockerBackend
        from designer.engine.environments import EnvironmentBuilder, EnvironmentSpec

        client = docker.from_env()
        base = os.environ.get("ATELIER_DOCKER_BASE_IMAGE", "atelier-base:bookworm")
        image = EnvironmentBuilder(client=client, cache_dir=work / "environments").ensure(EnvironmentSpec("default", base)).tag
        pooled = DockerBackend(image=lambda: image, scratch_dir=work / "warm", capacity=2, warm_pool=1, client=client)
        try:
            rows.append(measure("docker warm pool", "docker", pooled, folder, store, options.repeat))
        finally:
            pooled.shutdown()
    (first, first_cpu), (again, again_cpu) = snapshot_times(work)

    head = ("compute", "submit -> script start", "script end -> completed")
    width = max(len(r[0]) for r in rows)
    print(f"\njob whose script does nothing, median of {options.repeat}:\n")
    print(f"{head[0]:<{width}}  {head[1]:>22}  {head[2]:>23}")
    print(f"{'-' * width}  {'-' * 22}  {'-' * 23}")
    for label, start, end in rows:
        print(f"{label:<{width}}  {start:20.3f} s  {end:21.3f} s")
    print("targets: local <= 0.3 s, docker warm pool <= 1 s")
    print(f"\nsnapshot of 10,000 files: {first:.3f} s stored (CPU {first_cpu:.3f} s), {again:.3f} s found unchanged "
          f"(CPU {again_cpu:.3f} s); target <= 1 s")


if __name__ == "__main__":
    main()
