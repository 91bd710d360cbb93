"""designer.realtime.token_auth: an API token on the WebSocket handshake authenticates it."""
from __future__ import annotations

from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from designer.runs.models import Run, RunSource

pytestmark = pytest.mark.django_db(transaction=True)


def _run(user: Any) -> Run:
    return Run.objects.create(pipeline_name="test", pipeline={}, plan={}, source=RunSource.API, created_by=user)


def _first(server: Any, run: Run, headers: dict[str, str]) -> Any:
    with connect(f"{server.url}/ws/runs/{run.pk}/", origin=server.origin, additional_headers=headers,
                 open_timeout=10) as socket:
        try:
            return socket.recv(timeout=10)
        except ConnectionClosed as exc:
            return exc.rcvd.code


def test_a_valid_token_authenticates_and_a_wrong_one_does_not(server: Any, token: str, user: Any) -> None:
    run = _run(user)
    assert '"snapshot"' in _first(server, run, {"Authorization": f"Token {token}"})
    assert _first(server, run, {"Authorization": "Token wrong"}) == 4401
    assert _first(server, run, {}) == 4401


def test_a_token_of_another_user_sees_no_run(server: Any, token: str, django_user_model: Any) -> None:
    run = _run(django_user_model.objects.create_user("brian", password="not-used"))
    assert _first(server, run, {"Authorization": f"Token {token}"}) == 4404
