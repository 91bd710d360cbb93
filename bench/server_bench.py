"""Server benchmark: a scaled deployment on this machine, measured from the outside.

    python bench/server_bench.py [--runs 20] [--clients 50]

Starts daphne, two Celery workers (plus beat and its control worker) over Redis, on a
PostgreSQL database of its own (BENCH_DATABASE_URL, default `atelier_bench` on the local
server, created if missing), then prints a table:
- event latency: a step's end (the worker's clock) to a WebSocket client receiving it;
- orchestration overhead per step under Celery: in a chain, from one step's end to the
  next one's start (commit, broker, worker, claim, process start);
- API latency under N concurrent clients (reads of runs, a run, pipelines, modules);
- M concurrent runs of the automobile sample, submitted at once: all must complete;
  their wall time against the plain pandas + scikit-learn script doing the same work M times.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import requests
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SAMPLE = ROOT / "designer" / "samples" / "automobile-price-regression.yaml"
REDIS = "redis://127.0.0.1:6379"

from tests.cluster import celery_cluster, dispatch_env, serve_daphne  # noqa: E402 (needs ROOT on the path)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def fresh_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


class Client:
    def __init__(self, origin: str, token: str) -> None:
        self.origin, self.token = origin, token
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"

    def submit(self, document: dict[str, Any] | None = None, text: str | None = None, **body: Any) -> str:
        if text is not None:
            response = self.session.post(f"{self.origin}/api/runs/", files={"file": ("p.yaml", text)},
                                         data={k: json.dumps(v) for k, v in body.items()}, timeout=60)
        else:
            response = self.session.post(f"{self.origin}/api/runs/", json={"pipeline": document, **body}, timeout=60)
        response.raise_for_status()
        return response.json()["id"]

    def follow(self, run_id: str) -> list[tuple[float, dict[str, Any]]]:
        """Every message of the run's WebSocket with the time it arrived, to the run's end."""
        url = self.origin.replace("http://", "ws://") + f"/ws/runs/{run_id}/"
        received = []
        with connect(url, origin=self.origin, additional_headers={"Authorization": f"Token {self.token}"}) as ws:
            while True:
                message = json.loads(ws.recv(timeout=300))
                received.append((time.time(), message))
                status = message.get("status") if message["type"] == "run_status" else (
                    message["run"]["status"] if message["type"] == "snapshot" else None)
                if status in ("completed", "failed", "cancelled"):
                    return received

    def wait(self, run_id: str, timeout: float = 600) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.session.get(f"{self.origin}/api/runs/{run_id}/", timeout=60).json()
            if run["status"] in ("completed", "failed", "cancelled"):
                return run
            time.sleep(0.25)
        raise SystemExit(f"run {run_id} did not end in {timeout} s")


def chain(length: int) -> dict[str, Any]:
    """Enter Data, then `length` Select Columns steps one after the other."""
    data = "a,b,c\n" + "".join(f"{i},{i * 2},{i % 7}\n" for i in range(200))
    nodes: dict[str, Any] = {"n0": {"module": "enter_data_manually", "params": {"data": data}}}
    for i in range(1, length + 1):
        previous = f"n{i - 1}.dataset"
        nodes[f"n{i}"] = {"module": "select_columns", "inputs": {"dataset": previous},
                          "params": {"columns": ["a", "b", "c"] if i % 2 else ["c", "b", "a"]}}
    return {"format": "atelier/pipeline@1", "name": f"chain-{length}", "nodes": nodes}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--chain", type=int, default=12)
    args = parser.parse_args()

    database = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/atelier_bench")
    fresh_database(database)
    folder = Path(tempfile.mkdtemp(prefix="atelier-server-bench-"))
    env = dispatch_env(database=database, redis_url=f"{REDIS}/14", broker=f"{REDIS}/15", data_dir=folder / "data")
    env.update({"DJANGO_ALLOWED_HOSTS": "127.0.0.1", "ATELIER_HEARTBEAT_S": "5", "ATELIER_WORKER_LOST_AFTER_S": "60"})
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, check=True)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user = get_user_model().objects.create_user("bench")
    token = Token.objects.create(user=user).key
    import plain_automobile

    rows: list[tuple[str, str, str]] = []
    with celery_cluster(env, folder, workers=2, concurrency=2) as _, serve_daphne(env, folder / "daphne.log") as port:
        client = Client(f"http://127.0.0.1:{port}", token)
        client.wait(client.submit(chain(2), force_rerun=True))  # warm both workers' step servers

        # Event latency and per-step overhead: a chain, followed live, a few times.
        latencies: list[float] = []
        gaps: list[float] = []
        for _ in range(3):
            run_id = client.submit(chain(args.chain), force_rerun=True)
            for arrived, message in client.follow(run_id):
                if message["type"] == "step_status" and message["status"] == "completed":
                    latencies.append(arrived - message["finished_at"])
            steps = client.session.get(f"{client.origin}/api/runs/{run_id}/", timeout=60).json()["steps"]
            by_node = {s["node"]: s for s in steps}
            for i in range(1, args.chain + 1):
                ended = _seconds(by_node[f"n{i - 1}"]["finished_at"])
                started = _seconds(by_node[f"n{i}"]["started_at"])
                gaps.append(started - ended)
        rows.append(("event latency, step end -> WebSocket client, p50",
                     f"{percentile(latencies, 50) * 1000:.1f} ms", "target p95 <= 100 ms"))
        rows.append(("event latency, p95", f"{percentile(latencies, 95) * 1000:.1f} ms", f"{len(latencies)} events"))
        rows.append(("orchestration overhead per step (Celery), p50",
                     f"{percentile(gaps, 50) * 1000:.1f} ms", "target p50 <= 50 ms"))
        rows.append(("orchestration overhead per step, p95", f"{percentile(gaps, 95) * 1000:.1f} ms",
                     f"{len(gaps)} step starts"))

        # API under concurrent clients.
        some_run = run_id
        paths = ["/api/runs/", f"/api/runs/{some_run}/", "/api/pipelines/", "/api/modules/"]
        timings: list[float] = []
        lock = threading.Lock()

        def client_loop(number: int) -> None:
            session = requests.Session()
            session.headers["Authorization"] = f"Token {token}"
            for i in range(12):
                started = time.perf_counter()
                response = session.get(f"{client.origin}{paths[(number + i) % len(paths)]}", timeout=120)
                elapsed = time.perf_counter() - started
                if response.status_code != 200:
                    raise SystemExit(f"API answered {response.status_code}")
                with lock:
                    timings.append(elapsed)

        with ThreadPoolExecutor(args.clients) as pool:
            list(pool.map(client_loop, range(args.clients)))
        rows.append((f"API p50, {args.clients} concurrent clients", f"{percentile(timings, 50) * 1000:.0f} ms",
                     f"{len(timings)} requests"))
        rows.append((f"API p95, {args.clients} concurrent clients", f"{percentile(timings, 95) * 1000:.0f} ms", ""))

        # Concurrent runs of the automobile sample, every step re-run.
        text = SAMPLE.read_text()
        started = time.perf_counter()
        with ThreadPoolExecutor(args.runs) as pool:
            run_ids = list(pool.map(lambda _: client.submit(text=text, force_rerun=True), range(args.runs)))
            finals = list(pool.map(client.wait, run_ids))
        wall = time.perf_counter() - started
        completed = sum(1 for run in finals if run["status"] == "completed")
    plain_started = time.perf_counter()
    for _ in range(args.runs):
        plain_automobile.main()
    plain_warm = time.perf_counter() - plain_started
    processes = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, str(ROOT / "bench" / "plain_automobile.py")], check=True, capture_output=True)
        processes.append(time.perf_counter() - started)
    plain_processes = statistics.median(processes) * args.runs
    rows.append((f"{args.runs} concurrent automobile runs, all steps re-run", f"{wall:.1f} s",
                 f"{completed}/{args.runs} completed"))
    rows.append((f"plain script as a process, {args.runs} times one after another", f"{plain_processes:.1f} s",
                 f"ratio {wall / plain_processes:.2f} (median of 3 x {args.runs})"))
    rows.append((f"plain work {args.runs} times in one warm process", f"{plain_warm:.1f} s",
                 f"ratio {wall / plain_warm:.1f} (no imports, no isolation)"))

    width = max(len(r[0]) for r in rows)
    print(f"\n{'measurement':<{width}}  {'value':>10}  note")
    print(f"{'-' * width}  {'-' * 10}  {'-' * 24}")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>10}  {note}")
    print(f"\n2 workers x 2 threads on {os.cpu_count()} cores; PostgreSQL, Redis broker and channel layer.")


def _seconds(value: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


if __name__ == "__main__":
    main()
