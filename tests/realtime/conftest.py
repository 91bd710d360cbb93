"""A real ASGI server (daphne, in its own process) for real WebSocket clients, sharing the
test database and a Redis channel layer with the test process, which records the events."""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from designer.runs.models import Run, RunSource, StepRun
from tests.cluster import TEST_REDIS, serve_daphne
from tests.runs.conftest import database_url


@dataclass(frozen=True)
class Server:
    url: str  # ws://127.0.0.1:<port>
    log: Path

    @property
    def origin(self) -> str:
        # AllowedHostsOriginValidator refuses a handshake without an allowed Origin.
        return self.url.replace("ws://", "http://")


@pytest.fixture
def redis_url(worker_id: str) -> str:
    # One Redis database per xdist worker, so that parallel test sessions (whose users can
    # have the same ids, hence the same group names) never hear each other's events.
    number = 10 + (int(worker_id[2:]) if worker_id.startswith("gw") else 0)
    return f"redis://{TEST_REDIS}/{number % 16}"


@contextlib.contextmanager
def daphne(
    app: str, settings: Any, redis_url: str, tmp_path: Path, extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    """daphne serving the ASGI `app` with the test database and a Redis channel layer."""
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [redis_url]}}
    }
    env = {
        "DJANGO_SETTINGS_MODULE": "designer.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        # The session cookies the tests create are signed with this process's key.
        "DJANGO_SECRET_KEY": django_settings.SECRET_KEY,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "ATELIER_DATA_DIR": str(tmp_path / "data"),
        **(extra_env or {}),
    }
    log = tmp_path / "daphne.log"
    with serve_daphne(env, log, app) as port:
        yield Server(url=f"ws://127.0.0.1:{port}", log=log)


@pytest.fixture
def server(transactional_db: None, settings: Any, redis_url: str, tmp_path: Path) -> Iterator[Server]:
    """daphne serving designer.asgi, sharing the test database and a Redis layer."""
    with daphne("designer.asgi:application", settings, redis_url, tmp_path) as running:
        yield running


@pytest.fixture
def user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("ada", password="not-used")


@pytest.fixture
def other_user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("brian", password="not-used")


@pytest.fixture
def session_cookie() -> Callable[[Any], str]:
    """A `Cookie` header holding a logged-in session of the user (stored in the database)."""

    def cookie(user: Any) -> str:
        client = Client()
        client.force_login(user)
        return f"{django_settings.SESSION_COOKIE_NAME}={client.cookies[django_settings.SESSION_COOKIE_NAME].value}"

    return cookie


@pytest.fixture
def make_run() -> Callable[..., Run]:
    """A recorded run of `nodes`, owned by `user`, that nothing executes: tests record its events."""

    def make(user: Any, nodes: tuple[str, ...] = ("split", "train")) -> Run:
        run = Run.objects.create(pipeline_name="test", pipeline={}, plan={}, source=RunSource.API, created_by=user)
        StepRun.objects.bulk_create(
            StepRun(run=run, node=node, module="split_data", module_version=1, compute="local") for node in nodes
        )
        return run

    return make
