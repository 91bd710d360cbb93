"""A scaled deployment whose Redis (broker and channel layer, a redis-server of this test's
own) goes away for 30 s mid-run and comes back empty: every run still ends, and no API
answer meanwhile is a 500 page."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import requests

from designer.runs.models import Run, StepRun
from tests.cluster import RedisServer, celery_cluster, daphne, database_url, dispatch_env
from tests.waiting import eventually

from .conftest import Deployment, slow, wait_for_run

OUTAGE_S = 30


def test_runs_go_through_a_broker_outage_and_the_api_never_answers_a_500_page(
    transactional_db: None, settings: Any, tmp_path: Path, user: Any, store_dirs: Any,
) -> None:
    from rest_framework.authtoken.models import Token

    broker = RedisServer()
    broker.start()
    env = {
        **dispatch_env(database=database_url(), redis_url=f"{broker.url}/1", broker=f"{broker.url}/0",
                       data_dir=tmp_path / "data"),
        # A task the restarted broker lost is sent again within seconds.
        "ATELIER_RESEND_AFTER_S": "5",
    }
    try:
        with celery_cluster(env, tmp_path, concurrency=2) as cluster, daphne(
            "designer.asgi:application", settings, f"{broker.url}/1", tmp_path, extra_env=env
        ) as server:
            deployment = Deployment(server=server, cluster=cluster, token=Token.objects.create(user=user).key)
            runs = [deployment.submit(slow(3, f"before {number}")) for number in range(8)]
            eventually(lambda: StepRun.objects.filter(run_id__in=runs, node="sleep", status="running").count() >= 2,
                       timeout=120, interval=0.2, what="the runs to get going")
            finished = StepRun.objects.filter(run_id__in=runs, node="data", status="completed").first()
            assert finished is not None

            broker.stop()
            answers: list[requests.Response] = []
            cancelled = runs[-1]
            answers.append(deployment.api("POST", f"/api/runs/{cancelled}/cancel/"))
            outage_ends = time.monotonic() + OUTAGE_S
            while time.monotonic() < outage_ends:
                answers += [
                    deployment.api("GET", "/api/runs/"),
                    deployment.api("GET", f"/api/runs/{runs[0]}/"),
                    deployment.api("GET", f"/api/runs/{finished.run_id}/steps/data/outputs/dataset/preview/"),
                ]
                if len(runs) < 10:
                    submitted = deployment.api("POST", "/api/runs/", json={"pipeline": {
                        "format": "atelier/pipeline@1", "name": "during", "nodes": slow(3, f"during {len(runs)}"),
                    }})
                    answers.append(submitted)
                    if submitted.status_code == 201:
                        runs.append(submitted.json()["id"])
                time.sleep(1)
            broker.start()  # empty: the tasks it held are gone

            ended = {run_id: wait_for_run(run_id, timeout=180).status for run_id in runs}
    finally:
        broker.stop()

    assert len(runs) == 10, [(a.status_code, a.text[:200]) for a in answers if a.request.method == "POST"]
    assert ended == {**{run_id: "completed" for run_id in runs}, cancelled: "cancelled"}, ended
    assert not Run.objects.filter(status__in=["queued", "running"]).exists()
    for answer in answers:
        assert answer.status_code != 500 and answer.headers["Content-Type"].startswith("application/json"), (
            answer.request.method, answer.url, answer.status_code, answer.text[:300])
        if answer.status_code == 503:
            assert int(answer.headers["Retry-After"]) > 0
            assert answer.json()["errors"][0]["code"] == "service_unavailable"
    assert {a.status_code for a in answers if "/preview/" in a.url} == {503}, "the previews cache is on Redis"
