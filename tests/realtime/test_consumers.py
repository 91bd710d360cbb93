"""The realtime protocol end to end: real WebSocket clients against daphne, events recorded
by this process and carried by Redis, as in the scaled deployment."""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.db import transaction
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from designer.engine.events import (
    Event, RunStatusEvent, Status, StepLogEvent, StepMetricEvent, StepProgressEvent, StepStatusEvent,
)
from designer.realtime import publish
from designer.realtime.routing import websocket_urlpatterns
from designer.realtime.schemas import run_message, user_run_message
from designer.runs.models import Run
from designer.runs.recording import run_record_event
from tests.cluster import Server


TIMEOUT = 10


@contextmanager
def subscribe(server: Server, path: str, cookie: str | None = None) -> Iterator[ClientConnection]:
    headers = {"Cookie": cookie} if cookie else {}
    with connect(f"{server.url}{path}", origin=server.origin, additional_headers=headers,
                 open_timeout=TIMEOUT) as ws:
        yield ws


def receive(ws: ClientConnection, count: int, schema: Any = run_message) -> list[dict[str, Any]]:
    """The next `count` messages, each checked against the socket's schema."""
    messages = [json.loads(ws.recv(timeout=TIMEOUT)) for _ in range(count)]
    for message in messages:
        schema.validate_python(message)
    return messages


def assert_silent(ws: ClientConnection, wait: float = 0.5) -> None:
    with pytest.raises(TimeoutError):
        ws.recv(timeout=wait)


def close_code(ws: ClientConnection) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=TIMEOUT)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


def record(run: Run, *events: Event) -> list[int]:
    return [run_record_event(run_id=run.pk, event=event).seq for event in events]


def a_step_running(node: str = "split") -> StepStatusEvent:
    return StepStatusEvent(node=node, status=Status.RUNNING, started_at=time.time())


@pytest.fixture
def owner_cookie(user: Any, session_cookie: Callable[[Any], str]) -> str:
    return session_cookie(user)


def test_snapshot_first_then_every_kind_of_event_in_sequence_order(server, user, owner_cookie, make_run):
    run = make_run(user)
    started = time.time()
    record(run, RunStatusEvent(Status.RUNNING),
           StepStatusEvent(node="split", status=Status.REUSED, reused=True, started_at=started,
                           finished_at=started, duration_s=0.0, cache_key="k" * 64, reused_from="r" * 64))

    with subscribe(server, f"/ws/runs/{run.pk}/", owner_cookie) as ws:
        [snapshot] = receive(ws, 1)
        assert snapshot["type"] == "snapshot" and snapshot["seq"] == 2
        assert snapshot["run"]["status"] == "running" and snapshot["run"]["started_at"] is not None
        assert snapshot["steps"]["split"]["status"] == "reused" and snapshot["steps"]["split"]["reused"] is True
        assert snapshot["steps"]["split"]["started_at"] == pytest.approx(started)
        assert snapshot["steps"]["train"] == {"status": "queued", "reused": False, "started_at": None,
                                              "finished_at": None, "duration_s": None, "error": None,
                                              "placement": {}, "waiting": None}

        record(run, a_step_running("train"),
               StepLogEvent(node="train", lines=["epoch 1", "epoch 2"]),
               StepProgressEvent(node="train", fraction=0.5, message="half way"),
               StepMetricEvent(node="train", name="r2", value=0.93),
               StepStatusEvent(node="train", status=Status.FAILED, started_at=started, finished_at=started + 2,
                               duration_s=2.0, error={"code": "module_error", "message": "boom", "origin": "module", "node": "train"}),
               RunStatusEvent(Status.FAILED))
        events = receive(ws, 6)
        assert [e["seq"] for e in events] == [3, 4, 5, 6, 7, 8]
        assert [e["type"] for e in events] == [
            "step_status", "step_log", "step_progress", "step_metric", "step_status", "run_status"]
        assert events[1]["lines"] == ["epoch 1", "epoch 2"]
        assert events[4]["error"]["message"] == "boom" and events[4]["duration_s"] == 2.0
        assert events[5]["status"] == "failed"
        assert_silent(ws)


def test_a_reconnecting_client_gets_exactly_the_events_it_missed(server, user, owner_cookie, make_run):
    run = make_run(user)
    record(run, RunStatusEvent(Status.RUNNING), a_step_running(), StepLogEvent(node="split", lines=["a"]))

    with subscribe(server, f"/ws/runs/{run.pk}/?after=1", owner_cookie) as ws:
        assert [(e["seq"], e["type"]) for e in receive(ws, 2)] == [(2, "step_status"), (3, "step_log")]
        record(run, StepLogEvent(node="split", lines=["b"]))
        assert [e["seq"] for e in receive(ws, 1)] == [4]

    record(run, StepLogEvent(node="split", lines=["c"]), StepProgressEvent(node="split", fraction=1.0))
    with subscribe(server, f"/ws/runs/{run.pk}/?after=4", owner_cookie) as ws:
        missed = receive(ws, 2)
        assert [(e["seq"], e["type"]) for e in missed] == [(5, "step_log"), (6, "step_progress")]
        assert missed[0]["lines"] == ["c"]
        record(run, RunStatusEvent(Status.COMPLETED))
        assert [e["seq"] for e in receive(ws, 1)] == [7]
        assert_silent(ws)

    with subscribe(server, f"/ws/runs/{run.pk}/?after=0", owner_cookie) as ws:
        assert [e["seq"] for e in receive(ws, 7)] == [1, 2, 3, 4, 5, 6, 7]
        assert_silent(ws)


def test_a_client_ahead_of_the_run_starts_over_from_a_snapshot(server, user, owner_cookie, make_run):
    run = make_run(user)
    record(run, RunStatusEvent(Status.RUNNING))
    with subscribe(server, f"/ws/runs/{run.pk}/?after=50", owner_cookie) as ws:
        [snapshot] = receive(ws, 1)
        assert snapshot["type"] == "snapshot" and snapshot["seq"] == 1


def test_crossed_or_lost_publications_are_filled_from_the_database(server, user, owner_cookie, make_run,
                                                                   monkeypatch):
    run = make_run(user)
    with subscribe(server, f"/ws/runs/{run.pk}/", owner_cookie) as ws:
        assert receive(ws, 1)[0]["seq"] == 0
        late = []
        monkeypatch.setattr(publish, "publish_run_event", lambda **publication: late.append(publication))
        record(run, RunStatusEvent(Status.RUNNING), a_step_running())
        monkeypatch.undo()
        record(run, StepLogEvent(node="split", lines=["x"]))
        assert [e["seq"] for e in receive(ws, 3)] == [1, 2, 3]
        # The held-back publications arrive after all: already sent, so dropped.
        assert len(late) == 2, "held back"
        for publication in late:
            publish.publish_run_event(**publication)
        record(run, StepLogEvent(node="split", lines=["y"]))
        assert [e["seq"] for e in receive(ws, 1)] == [4]
        assert_silent(ws)


def test_events_are_published_only_once_committed(server, user, owner_cookie, make_run):
    run = make_run(user)
    with subscribe(server, f"/ws/runs/{run.pk}/", owner_cookie) as ws:
        receive(ws, 1)
        with pytest.raises(RuntimeError), transaction.atomic():
            record(run, RunStatusEvent(Status.RUNNING))
            raise RuntimeError("rolled back")
        assert_silent(ws)
        record(run, RunStatusEvent(Status.RUNNING))
        [event] = receive(ws, 1)
        assert event["seq"] == 1


@pytest.mark.parametrize("who", ["another user", "anonymous", "owner, unknown run"])
def test_only_the_owner_may_subscribe_and_ids_do_not_leak(who, server, user, other_user, session_cookie, make_run):
    run = make_run(user)
    record(run, RunStatusEvent(Status.RUNNING))
    cookie = {"another user": session_cookie(other_user), "anonymous": None,
              "owner, unknown run": session_cookie(user)}[who]
    run_id = uuid.uuid4() if who == "owner, unknown run" else run.pk
    with subscribe(server, f"/ws/runs/{run_id}/", cookie) as ws:
        # Refused before anything of the run is sent; another user's run looks like no run.
        assert close_code(ws) == (4401 if who == "anonymous" else 4404)


def test_a_malformed_after_is_refused(server, user, owner_cookie, make_run):
    run = make_run(user)
    with subscribe(server, f"/ws/runs/{run.pk}/?after=-1", owner_cookie) as ws:
        assert close_code(ws) == 4400


def test_the_run_list_channel_sees_status_changes_of_the_users_runs_only(
    server, user, other_user, owner_cookie, make_run
):
    mine, theirs = make_run(user), make_run(other_user)
    with subscribe(server, "/ws/runs/", owner_cookie) as ws:
        record(theirs, RunStatusEvent(Status.RUNNING))
        record(mine, RunStatusEvent(Status.RUNNING), a_step_running(), StepLogEvent(node="split", lines=["x"]),
               RunStatusEvent(Status.COMPLETED))
        changes = receive(ws, 2, schema=user_run_message)
        assert [(c["run_id"], c["status"], c["seq"]) for c in changes] == [
            (str(mine.pk), "running", 1), (str(mine.pk), "completed", 4)]
        assert_silent(ws)


def test_the_run_list_channel_refuses_anonymous_clients(server):
    with subscribe(server, "/ws/runs/") as ws:
        assert close_code(ws) == 4401


@pytest.mark.parametrize("path", ["/ws/nothing-here/", "/ws/runs/not-a-run-id/", "/ws/", "/ws/runs/x/y/"])
def test_a_websocket_to_an_unknown_path_is_refused_cleanly(server, path):
    """Closed with the not-found code, as an unknown run is, and nothing in the server's log
    (an unrouted path was a traceback and an HTTP 500 handshake)."""
    with subscribe(server, path) as ws:
        assert close_code(ws) == 4404
    assert "Traceback" not in server.log.read_text()


def test_the_in_memory_layer_in_one_process(transactional_db, settings, user, make_run):
    """The embedded default: the consumer and the recording share this process's layer."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    run = make_run(user)
    record(run, RunStatusEvent(Status.RUNNING))

    @async_to_sync
    async def scenario() -> list[dict[str, Any]]:
        communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/runs/{run.pk}/")
        communicator.scope["user"] = user
        connected, _ = await communicator.connect()
        assert connected
        messages = [await communicator.receive_json_from(TIMEOUT)]
        await database_sync_to_async(record)(run, a_step_running(), RunStatusEvent(Status.COMPLETED))
        messages += [await communicator.receive_json_from(TIMEOUT) for _ in range(2)]
        assert await communicator.receive_nothing()
        await communicator.disconnect()
        return messages

    messages = scenario()
    for message in messages:
        run_message.validate_python(message)
    assert [(m["type"], m["seq"]) for m in messages] == [("snapshot", 1), ("step_status", 2), ("run_status", 3)]


def test_a_subscription_outlives_a_quiet_run(server, user, owner_cookie, make_run):
    run = make_run(user)
    with subscribe(server, f"/ws/runs/{run.pk}/", owner_cookie) as ws:
        receive(ws, 1)
        assert_silent(ws, wait=7)
        record(run, RunStatusEvent(Status.RUNNING))
        assert [e["seq"] for e in receive(ws, 1)] == [1]
