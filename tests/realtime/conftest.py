"""Realtime tests: real WebSocket clients of a real ASGI server (the root's `server`, daphne in
its own process) sharing the test database and a Redis channel layer with the test process,
which records the events."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from designer.runs.models import Run, RunSource, StepRun


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
