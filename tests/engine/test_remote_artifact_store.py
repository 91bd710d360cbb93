"""A remote artifact store shared by two "machines" (two executors, each with a cache of its
own): what one stores, the other reuses and reads.

Remotes: a shared folder (`file://`, as a network mount would be), and an S3 bucket. S3
itself is out of reach here (no internet), so the bucket is moto's S3-compatible server on
127.0.0.1, spoken to over HTTP by the same s3fs client a deployment uses.
"""
from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from designer.engine.artifact_store import RemoteArtifactStore, folder_digest
from designer.engine.events import Status
from designer.engine.executor import Executor
from designer.engine.local_backend import LocalBackend

from .test_executor import IRIS, plan_of

NODES = {
    "iris": IRIS,
    "split": {"module": "split_data", "inputs": {"dataset": "iris.dataset"}, "params": {"fraction": 0.6, "seed": 1}},
    "summary": {"module": "summarize_data", "inputs": {"dataset": "split.first"}},
}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_options(endpoint: str) -> dict:
    return {"key": "test", "secret": "test", "client_kwargs": {"endpoint_url": endpoint, "region_name": "eu-west-1"}}


@pytest.fixture(params=["file", "s3"])
def remote(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict]:
    if request.param == "file":
        return f"file://{tmp_path / 'shared'}", {}
    options = s3_options(request.getfixturevalue("s3_endpoint"))
    bucket = f"atelier-{tmp_path.name.lower().replace('_', '-')[-40:]}"
    import s3fs

    s3fs.S3FileSystem(**options).mkdir(bucket, region_name="eu-west-1")
    return f"s3://{bucket}/artifacts", options


def machine(remote: tuple[str, dict], cache: Path) -> tuple[RemoteArtifactStore, Executor]:
    store = RemoteArtifactStore(remote[0], cache, storage_options=remote[1])
    return store, Executor(store=store, backends={"local": LocalBackend(capacity=2)})


def test_what_one_machine_stores_another_reuses_and_reads(remote: tuple[str, dict], tmp_path: Path) -> None:
    plan = plan_of(NODES)
    store_a, executor_a = machine(remote, tmp_path / "a")
    first = executor_a.run(plan)
    assert first.status is Status.COMPLETED

    store_b, executor_b = machine(remote, tmp_path / "b")
    second = executor_b.run(plan)
    assert {s.status for s in second.steps.values()} == {Status.REUSED}

    digest = second.steps["summary"].outputs["dataset"]["artifact"]
    assert not store_b.local.exists(digest), "nothing is fetched before it is read"
    folder = store_b.path(digest)
    assert folder_digest(folder) == digest
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in store_a.path(digest).iterdir())

    # A step on machine B reads its input from the shared store: it runs, fetching it.
    changed = plan_of({**NODES, "summary": {**NODES["summary"], "inputs": {"dataset": "split.second"}}})
    third = executor_b.run(changed)
    assert third.steps["summary"].status is Status.COMPLETED and third.steps["split"].reused


def test_an_object_that_does_not_hold_its_content_is_refused(remote: tuple[str, dict], tmp_path: Path) -> None:
    store, executor = machine(remote, tmp_path / "a")
    digest = executor.run(plan_of({"iris": IRIS})).steps["iris"].outputs["dataset"]["artifact"]
    forged = io.BytesIO()
    with tarfile.open(fileobj=forged, mode="w") as tar:
        data = b"not the table"
        info = tarfile.TarInfo("data.parquet")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    store.fs.pipe_file(store._object(digest), forged.getvalue())

    reader, _ = machine(remote, tmp_path / "b")
    with pytest.raises(ValueError, match="holds other content"):
        reader.path(digest)


def test_an_archive_reaching_outside_its_folder_is_refused(remote: tuple[str, dict], tmp_path: Path) -> None:
    store, _ = machine(remote, tmp_path / "a")
    hostile = io.BytesIO()
    with tarfile.open(fileobj=hostile, mode="w") as tar:
        info = tarfile.TarInfo("../../escaped.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    digest = "ab" * 32
    store.fs.makedirs(store._object(digest).rsplit("/", 1)[0], exist_ok=True)
    store.fs.pipe_file(store._object(digest), hostile.getvalue())

    with pytest.raises(tarfile.OutsideDestinationError):
        store.path(digest)
    assert not list(tmp_path.rglob("escaped.txt"))
