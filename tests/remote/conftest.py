"""A real daphne server (running its runs in-process with the embedded dispatcher) whose
WebSockets take API tokens, and `submit_pipeline` run as a user would, against it."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster import ROOT, Server, daphne

SAMPLES = ROOT / "designer" / "samples"


@pytest.fixture
def http_only_server(transactional_db: None, settings: Any, redis_url: str, tmp_path: Path) -> Iterator[Server]:
    """Like `server`, serving tests/remote/asgi_http_only.py: no WebSockets."""
    with daphne("tests.remote.asgi_http_only:application", settings, redis_url, tmp_path) as running:
        yield running


@pytest.fixture
def token(user: Any) -> str:
    from rest_framework.authtoken.models import Token

    return Token.objects.create(user=user).key


def submit_command(file: str | Path, url: str, token: str | None, *args: str) -> tuple[list[str], dict[str, str]]:
    """The argv and environment of `python manage.py submit_pipeline FILE --url URL ARGS...`
    (run from ROOT), with the token in ATELIER_TOKEN and no usable local database: the
    command must not need one."""
    env = {**os.environ, "DATABASE_URL": "postgres://nobody@127.0.0.1:1/no_database_here"}
    env.pop("ATELIER_TOKEN", None)
    if token is not None:
        env["ATELIER_TOKEN"] = token
    return [sys.executable, "manage.py", "submit_pipeline", str(file), "--url", url, *args], env


@pytest.fixture
def submit(server: Server, token: str) -> Callable[..., subprocess.CompletedProcess]:
    """Runs submit_pipeline against `server` to its end."""

    def run(file: str | Path, *args: str, token: str | None = token, timeout: float = 300) -> subprocess.CompletedProcess:
        argv, env = submit_command(file, server.origin, token, *args)
        return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)

    return run
