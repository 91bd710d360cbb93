"""Tables that cost too much, sent to a real server (daphne, its own process): refused with
a message before they cost memory, large ones previewed in table workers; the web
process stays small throughout (its peak resident memory, read from /proc)."""
from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings as django_settings
from rest_framework.authtoken.models import Token

from designer.datasets import services
from tests.cluster import Daphne, daphne_process, database_url
from tests.large_tables import bomb_parquet, repeated_parquet, wide_csv, wide_parquet
from tests.waiting import eventually

WEB_PROCESS_LIMIT_MB = 500
WORKER_MEMORY_MB = 1024
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("large")
    return {
        "bomb": bomb_parquet(folder / "bomb.parquet"),
        "wide_parquet": wide_parquet(folder / "wide.parquet"),
        "wide_csv": wide_csv(folder / "wide.csv"),
        # 6 million cells: within the limits, and within a worker's memory.
        "large": repeated_parquet(folder / "large.parquet", rows=3_000_000),
        # 60 million cells: within the limits, but 480 MB once read, more than a worker has.
        "huge": repeated_parquet(folder / "huge.parquet", rows=30_000_000),
    }


@dataclass(frozen=True)
class Server:
    daphne: Daphne
    headers: dict[str, str]
    user: Any

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.daphne.port}{path}"

    def get(self, path: str) -> requests.Response:
        return requests.get(self.url(path), headers=self.headers, timeout=300)

    def upload(self, path: Path) -> requests.Response:
        with path.open("rb") as file:
            return requests.post(self.url("/api/datasets/"), files={"file": (path.name, file)}, headers=self.headers,
                                 timeout=300)

    def peak_memory_mb(self) -> float:
        status = Path(f"/proc/{self.daphne.pid}/status").read_text()
        found = re.search(r"VmHWM:\s+(\d+) kB", status)
        assert found is not None
        return int(found.group(1)) / 1024


@pytest.fixture
def server(transactional_db: None, store_dirs: Path, tmp_path: Path, user: Any) -> Iterator[Server]:
    """daphne sharing this test's store and datasets (the folder's `store_dirs`)."""
    env = {
        "DJANGO_SETTINGS_MODULE": "designer.settings",
        "DATABASE_URL": database_url(),
        "DJANGO_SECRET_KEY": django_settings.SECRET_KEY,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "ATELIER_DATA_DIR": str(store_dirs),
        "ATELIER_TABLE_WORKER_MEMORY_MB": str(WORKER_MEMORY_MB),
    }
    token = Token.objects.create(user=user)
    with daphne_process(env, tmp_path / "daphne.log") as daphne:
        yield Server(daphne, {"Authorization": f"Token {token.key}"}, user)


def error_of(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    (error,) = response.json()["errors"]
    return error


def test_costly_tables_are_refused_and_large_ones_previewed_while_the_web_process_stays_small(
    server, files, tmp_path,
):
    bomb = error_of(server.upload(files["bomb"]))
    assert bomb["code"] == "table_too_large"
    assert bomb["message"] == (
        "the file has 200,000,000 rows x 1 column = 200,000,000 cells; the limit is 100,000,000 cells"
    )
    wide = error_of(server.upload(files["wide_parquet"]))
    assert wide["code"] == "table_too_large" and "10,000 columns" in wide["message"]
    wide_text = error_of(server.upload(files["wide_csv"]))
    assert wide_text["message"] == "the file has 100,000 columns; the limit is 10,000 columns"
    too_big_to_read = error_of(server.upload(files["huge"]))
    assert too_big_to_read["code"] == "out_of_memory"
    assert too_big_to_read["message"] == (
        f"the table needs more memory than the {WORKER_MEMORY_MB:,} MB a table worker may use"
    )

    large = server.upload(files["large"])
    assert large.status_code == 201, large.text
    versions = f"/api/datasets/{large.json()['id']}/versions/1"
    preview = server.get(f"{versions}/preview/?offset=2999990&limit=5&sort=-c1")
    assert preview.status_code == 200, preview.text
    assert preview.json()["total_rows"] == 3_000_000 and preview.json()["rows"] == [[0, 1]] * 5
    assert server.get(f"{versions}/profile/").json()["columns"][0]["count"] == 3_000_000

    # A table that came from a run rather than an upload (Export Data registers what a step
    # wrote): its preview is refused, not attempted in the web process.
    exported = tmp_path / "exported"
    exported.mkdir()
    (exported / "table.parquet").write_bytes(files["huge"].read_bytes())
    version = services.dataset_export_register(user=server.user, name="huge", table=exported)
    refused = error_of(server.get(f"/api/datasets/{version.dataset_id}/versions/1/preview/"))
    assert refused["code"] == "out_of_memory" and refused["field"] == "table"

    assert server.get("/api/datasets/").status_code == 200
    assert server.peak_memory_mb() < WEB_PROCESS_LIMIT_MB


def test_table_workers_go_when_the_server_is_killed(server, files):
    assert server.upload(files["large"]).status_code == 201  # the workers are started
    group = [pid for pid in _processes() if _group_of(pid) == server.daphne.pid]
    assert len(group) >= 3, "daphne, the fork server and a worker"
    os.kill(server.daphne.pid, signal.SIGKILL)
    eventually(lambda: not any(_alive(pid) for pid in group), timeout=60,
               what="the processes of the killed server to go")


def _processes() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def _group_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has ended; only its parent's wait is missing
