"""Fixtures shared by every test folder."""
from __future__ import annotations

import os
import signal
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
import redis
import yaml
from rest_framework.test import APIClient

from designer.engine.environments import EnvironmentBuilder, EnvironmentSpec
from tests.cluster import TEST_REDIS, Server, broker_url, daphne, point_celery_at

# Ada's password, for the tests that sign in with it (the API's token endpoint, the login
# page, the browser of the e2e tests).
PASSWORD = "lovelace-1815"
# The image the docker tests build the default environment on (.ci/run builds it).
BASE_IMAGE = os.environ.get("ATELIER_DOCKER_BASE_IMAGE", "atelier-base:bookworm")


def pytest_configure(config: pytest.Config) -> None:
    """Tests press Ctrl-C on the commands they start. A suite started in the background by a
    shell without job control inherits SIGINT ignored, and so would those commands (Python
    then never raises KeyboardInterrupt): they get it back, as in a terminal."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _deployment_rows(request: pytest.FixtureRequest) -> None:
    """The rows every deployment gets when it migrates (the default compute targets),
    put back for each database test: a transactional test's flush empties every table, and
    a deployment never runs without them."""
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    if marker is None and not names & {"db", "transactional_db", "live_server"}:
        return
    transactional = bool(names & {"transactional_db", "live_server"}) or bool(marker and marker.kwargs.get("transaction"))
    request.getfixturevalue("transactional_db" if transactional else "db")
    from designer.compute.backends import compute_targets_seed

    compute_targets_seed()


@pytest.fixture(autouse=True)
def _sign_in_attempts_forgotten() -> None:
    """Sign-in attempts are counted per client address in a cache that lives as long as the
    process: every test starts with none counted (the in-memory cache only; a Redis one
    would be another deployment's to clear)."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    if isinstance(caches["throttle"], LocMemCache):
        caches["throttle"].clear()


@pytest.fixture
def in_test_transaction():
    """For requests sent in-process to Django's WSGI handler (Schemathesis): as Django's test
    client does, a request's end must not close the connection holding the test's transaction."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def pipeline_text():
    """Build a pipeline file's text from a nodes mapping (plus optional top-level keys)."""

    def build(nodes: dict, **top) -> str:
        data = {"format": "atelier/pipeline@1", "name": "test", **top, "nodes": nodes}
        return yaml.safe_dump(data, sort_keys=False)

    return build


@pytest.fixture
def user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("ada", password=PASSWORD)


@pytest.fixture
def other_user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("brian", password="kernighan-1942")


def client_for(user: Any) -> APIClient:
    """An API client signed in as `user`."""
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def api(user: Any) -> APIClient:
    return client_for(user)


@pytest.fixture
def intruder(other_user: Any) -> APIClient:
    """Someone else, signed in: whatever `user` owns is none of theirs."""
    return client_for(other_user)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """The ATELIER_DATA_DIR of the processes a test starts."""
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


@pytest.fixture
def store_dirs(settings: Any, data_dir: Path) -> Path:
    """Point the artifact store and the datasets at this test's own folder."""
    settings.ATELIER = {
        **settings.ATELIER, "ARTIFACT_STORE": data_dir / "artifacts", "DATASETS_DIR": data_dir / "datasets",
    }
    return data_dir


@pytest.fixture
def redis_url(worker_id: str) -> str:
    # One Redis database per xdist worker, so that parallel test sessions (whose users can
    # have the same ids, hence the same group names) never hear each other's events.
    number = 10 + (int(worker_id[2:]) if worker_id.startswith("gw") else 0)
    return f"redis://{TEST_REDIS}/{number % 16}"


@pytest.fixture
def server(transactional_db: None, settings: Any, redis_url: str, tmp_path: Path) -> Iterator[Server]:
    """daphne serving designer.asgi, sharing the test database and a Redis layer."""
    with daphne("designer.asgi:application", settings, redis_url, tmp_path) as running:
        yield running


@pytest.fixture
def distributed(transactional_db: None, settings: Any, worker_id: str, store_dirs: Path) -> None:
    """Distributed dispatch in this process, to a real Redis broker that no worker reads."""
    settings.CELERY_BROKER_URL = broker_url(worker_id)
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    point_celery_at(settings.CELERY_BROKER_URL)


@pytest.fixture(scope="session")
def docker_client() -> docker.DockerClient:
    """A real Docker engine. Without one the test is skipped, except where
    ATELIER_REQUIRE_DOCKER=1 (CI sets it): there a missing engine fails it."""
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        if os.environ.get("ATELIER_REQUIRE_DOCKER") == "1":
            pytest.fail(f"no Docker engine: {exc}")
        pytest.skip(f"no Docker engine: {exc}")
    return client


@pytest.fixture(scope="session")
def env_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("environments")


@pytest.fixture(scope="session")
def builder(docker_client: docker.DockerClient, env_cache: Path) -> EnvironmentBuilder:
    return EnvironmentBuilder(client=docker_client, cache_dir=env_cache)


@pytest.fixture(scope="session")
def default_image(builder: EnvironmentBuilder) -> str:
    """The default environment: built here unless .ci/run (or an earlier run) built it."""
    return str(builder.ensure(EnvironmentSpec("default", BASE_IMAGE)).tag)


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip()
