"""Runs on real Celery workers: every step a task on its compute target's queue, the run
moved on by its steps' ends, followed live over the WebSocket; lost workers, cancel."""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from designer.runs.models import RunEvent, StepRun
from tests.waiting import eventually

from .conftest import DATA, Deployment, slow, wait_for_run

# Two branches that can run side by side, joined at the end.
NODES = {
    "data": {"module": "enter_data_manually", "params": {"data": DATA}},
    "split": {"module": "split_data", "inputs": {"dataset": "data.dataset"}, "params": {"fraction": 0.75}},
    "linear": {"module": "linear_regression"},
    "forest": {"module": "decision_forest_regression", "params": {"n_trees": 5}},
    "train_linear": {"module": "train_model", "inputs": {"model": "linear.model", "dataset": "split.first"},
                     "params": {"label_column": "y"}},
    "train_forest": {"module": "train_model", "inputs": {"model": "forest.model", "dataset": "split.first"},
                     "params": {"label_column": "y"}},
    "score_linear": {"module": "score_model", "inputs": {"model": "train_linear.model", "dataset": "split.second"}},
    "score_forest": {"module": "score_model", "inputs": {"model": "train_forest.model", "dataset": "split.second"}},
    "evaluate": {"module": "evaluate_model", "inputs": {"scored": "score_linear.dataset",
                                                        "scored_compare": "score_forest.dataset"}},
}


def transitions(messages: list[dict[str, Any]]) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = defaultdict(list)
    for message in messages:
        if message["type"] == "snapshot":
            for node, state in message["steps"].items():
                seen[node].append(state["status"])
        elif message["type"] == "step_status":
            seen[message["node"]].append(message["status"])
    return dict(seen)


def wait_until_running(run_id: str, node: str, timeout: float = 60) -> StepRun:
    def on_a_worker() -> StepRun | None:
        step = StepRun.objects.get(run_id=run_id, node=node)
        return step if step.status == "running" and step.placement.get("worker") else None

    return eventually(on_a_worker, timeout=timeout, interval=0.1, what=f"{node} to run on a worker")


def test_a_run_completes_on_the_workers_and_a_client_sees_every_transition_in_order(deployment: Deployment) -> None:
    run_id = deployment.submit(NODES)
    messages = deployment.events(run_id)

    assert messages[0]["type"] == "snapshot"
    seqs = [m["seq"] for m in messages[1:]]
    assert seqs == list(range(messages[0]["seq"] + 1, messages[0]["seq"] + 1 + len(seqs))), "a gap or a repeat"
    assert messages[-1] == {**messages[-1], "type": "run_status", "status": "completed"}
    for node, states in transitions(messages).items():
        # The snapshot may already show a step queued or further on: what follows is in order.
        assert states[-2:] == ["running", "completed"], (node, states)
    workers = {step.placement["worker"].split("@")[0] for step in StepRun.objects.filter(run_id=run_id)}
    assert workers <= {"w1", "w2"}
    assert all(step.attempts == 1 and step.outputs for step in StepRun.objects.filter(run_id=run_id))
    assert StepRun.objects.get(run_id=run_id, node="evaluate").metrics["coefficient_of_determination"] > 0.9

    # The same run again: everything comes from the cache, without a single task.
    again = deployment.submit(NODES)
    assert wait_for_run(again).status == "completed"
    assert {s.status for s in StepRun.objects.filter(run_id=again)} == {"reused"}
    assert not StepRun.objects.filter(run_id=again).exclude(task_id="").exists()


def test_a_client_that_connects_late_or_reconnects_mid_run_misses_nothing(deployment: Deployment) -> None:
    run_id = deployment.submit(slow(2))
    first = deployment.events(run_id, until=lambda m: m["type"] == "step_status" and m["status"] == "running")
    resumed = deployment.events(run_id, after=first[-1]["seq"])

    assert resumed[0]["seq"] == first[-1]["seq"] + 1, "a reconnecting client gets what it missed, from there"
    seqs = [m["seq"] for m in resumed]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert resumed[-1]["status"] == "completed"

    late = deployment.events(run_id)
    assert len(late) == 1 and late[0]["type"] == "snapshot" and late[0]["seq"] == resumed[-1]["seq"]
    assert {state["status"] for state in late[0]["steps"].values()} == {"completed"}


def test_a_worker_killed_mid_step_has_its_step_retried_on_the_other(deployment: Deployment) -> None:
    run_id = deployment.submit(slow(3))
    step = wait_until_running(run_id, "sleep")
    deployment.cluster.worker(step.placement["worker"]).kill()

    run = wait_for_run(run_id, timeout=60)
    assert run.status == "completed"
    step.refresh_from_db()
    assert step.status == "completed" and step.attempts == 2
    assert deployment.cluster.worker(step.placement["worker"]).process.poll() is None, "ran again elsewhere"
    completions = RunEvent.objects.filter(run_id=run_id, type="step_status", payload__node="sleep",
                                          payload__status="completed")
    assert completions.count() == 1, "the step's end (and its outputs) recorded once"
    logs = RunEvent.objects.filter(run_id=run_id, type="step_log", payload__node="sleep")
    assert any("stopped responding" in line for event in logs for line in event.payload["lines"])


def test_a_step_whose_workers_are_both_killed_fails_as_worker_lost(deployment: Deployment) -> None:
    run_id = deployment.submit(slow(30))
    first = wait_until_running(run_id, "sleep")
    deployment.cluster.worker(first.placement["worker"]).kill()
    eventually(lambda: StepRun.objects.get(run_id=run_id, node="sleep").attempts >= 2, timeout=60,
               what="the step to be retried")
    second = wait_until_running(run_id, "sleep")
    assert second.placement["worker"] != first.placement["worker"]
    deployment.cluster.worker(second.placement["worker"]).kill()

    run = wait_for_run(run_id, timeout=60)
    steps = {s.node: s for s in StepRun.objects.filter(run_id=run_id)}
    assert run.status == "failed"
    assert steps["sleep"].status == "failed" and steps["sleep"].error["code"] == "worker_lost"
    assert steps["sleep"].attempts == 2
    assert steps["sleep"].error["origin"] == "infrastructure"
    assert steps["after"].status == "skipped"


def test_cancel_stops_the_step_on_its_worker_and_ends_the_run(deployment: Deployment) -> None:
    run_id = deployment.submit(slow(60))
    wait_until_running(run_id, "sleep")
    response = deployment.api("POST", f"/api/runs/{run_id}/cancel/")
    assert response.status_code == 200, response.text

    run = wait_for_run(run_id, timeout=30)
    steps = {s.node: s.status for s in StepRun.objects.filter(run_id=run_id)}
    assert run.status == "cancelled"
    assert steps == {"data": "completed", "sleep": "cancelled", "after": "cancelled"}
    # Both workers are free again: the next run goes through at once.
    assert wait_for_run(deployment.submit(slow(0, "next")), timeout=60).status == "completed"


def test_workers_with_caches_of_their_own_share_artifacts_through_an_s3_bucket(deploy: Any, tmp_path: Path) -> None:
    """As on machines of their own: no shared folder, only the bucket. S3 itself is out of
    reach here, so the bucket is moto's S3-compatible server on 127.0.0.1 (see
    tests/engine/test_remote_artifact_store.py), spoken to by the s3fs client deployments use."""
    import s3fs
    from moto.server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    try:
        host, port = moto.get_host_and_port()
        options = {"key": "test", "secret": "test",
                   "client_kwargs": {"endpoint_url": f"http://{host}:{port}", "region_name": "eu-west-1"}}
        bucket = s3fs.S3FileSystem(**options)
        bucket.mkdir("runs", region_name="eu-west-1")
        with deploy(ATELIER_ARTIFACT_STORE="s3://runs/artifacts", ATELIER_ARTIFACT_STORE_OPTIONS=json.dumps(options),
                    ATELIER_ARTIFACT_CACHE=str(tmp_path / "web-cache")) as deployment:
            run_id = deployment.submit(NODES)
            assert wait_for_run(run_id).status == "completed"
            steps = {s.node: s for s in StepRun.objects.filter(run_id=run_id)}
            produced = {o["artifact"] for s in steps.values() for o in s.outputs.values()}
            stored = {Path(key).name.removesuffix(".tar") for key in bucket.find("runs/artifacts/objects")}
            assert produced <= stored
            # The web process reads an output it never produced, from the bucket.
            preview = deployment.api("GET", f"/api/runs/{run_id}/steps/score_linear/outputs/dataset/preview/")
            assert preview.status_code == 200 and preview.json()["total_rows"] == 10
            assert not (tmp_path / "data" / "artifacts" / "objects").exists() or not any(
                (tmp_path / "data" / "artifacts" / "objects").iterdir()), "no shared folder was used"
    finally:
        moto.stop()


def test_a_worker_of_the_docker_queue_runs_its_steps_in_containers(deploy: Any, default_image: str) -> None:
    nodes = slow(0)
    nodes["sleep"]["compute"] = "docker"
    # No warm pool: the containers end with their steps, before the workers stop.
    with deploy(queues="local,docker", ATELIER_DOCKER_WARM_POOL="0") as deployment:
        run = wait_for_run(deployment.submit(nodes), timeout=120)
        steps = {s.node: s for s in StepRun.objects.filter(run_id=run.pk)}
        assert run.status == "completed", {node: s.error for node, s in steps.items()}
        boxed = steps["sleep"]
        assert boxed.compute == "docker" and boxed.placement["image"] == default_image
        assert deployment.cluster.worker(boxed.placement["worker"]) in deployment.cluster.workers
        assert "image" not in steps["data"].placement and steps["data"].placement["worker"]
        assert steps["after"].outputs["dataset"]["rows"] == 40


def test_a_step_for_a_compute_no_worker_serves_says_so_and_can_be_cancelled(deploy: Any) -> None:
    from designer.compute.models import ComputeTarget

    ComputeTarget.objects.create(name="big-memory", backend="local")
    nodes = slow(0)
    nodes["sleep"]["compute"] = "big-memory"
    with deploy(ATELIER_UNSERVED_AFTER_S="1") as deployment:  # its workers read `local` only
        run_id = deployment.submit(nodes)
        told = deployment.events(run_id, until=lambda m: m["type"] == "step_log" and m["node"] == "sleep")
        assert told[-1]["lines"] == [
            "waiting: no worker takes steps for compute 'big-memory'; the step starts when one does "
            "(celery -A designer worker -Q big-memory)"
        ]
        assert StepRun.objects.get(run_id=run_id, node="sleep").status == "queued"
        assert deployment.api("POST", f"/api/runs/{run_id}/cancel/").status_code == 200
        assert wait_for_run(run_id).status == "cancelled"
