"""WebSocket consumers: one run's events (`/ws/runs/<run_id>/`) and the user's run list
(`/ws/runs/`).

A run's subscriber gets a snapshot (or, reconnecting with `?after=<seq>`, the events it
missed, from the database), then live events, each exactly once and in sequence order.
"""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.db import transaction

from designer.runs.models import Run, RunEvent
from designer.runs.recording import event_message
from designer.runs.selectors import run_visible_to

from .publish import run_group, user_group

# Close codes (the 4000-4999 range is the application's). Another user's run is refused
# exactly like a run that does not exist, so run ids cannot be probed.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_BAD_REQUEST = 4400


def _seconds(moment: dt.datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def _snapshot(*, run_id: uuid.UUID) -> dict[str, Any]:
    with transaction.atomic():
        # Holding the run row blocks run_record_event (it updates that row first) while the
        # steps are read, so the step states are exactly those as of `last_seq`.
        run = Run.objects.select_for_update().get(pk=run_id)
        steps = {
            step.node: {
                "status": step.status, "reused": step.reused, "started_at": _seconds(step.started_at),
                "finished_at": _seconds(step.finished_at), "duration_s": step.duration_s, "error": step.error,
                "placement": step.placement, "waiting": step.waiting or None,
            }
            for step in run.steps.all()
        }
    return {
        "type": "snapshot",
        "seq": run.last_seq,
        "run": {
            "id": str(run.pk), "status": run.status, "created_at": run.created_at.timestamp(),
            "started_at": _seconds(run.started_at), "finished_at": _seconds(run.finished_at),
        },
        "steps": steps,
    }


def _events_after(*, run_id: uuid.UUID, seq: int) -> list[dict[str, Any]]:
    return [event_message(event) for event in RunEvent.objects.filter(run_id=run_id, seq__gt=seq).order_by("seq")]


def _catch_up(*, run_id: uuid.UUID, after: int | None) -> list[dict[str, Any]]:
    """A snapshot, or, for a client that has seen events up to `after`, the events since."""
    if after is not None and after <= Run.objects.values_list("last_seq", flat=True).get(pk=run_id):
        return _events_after(run_id=run_id, seq=after)
    # A client ahead of the run knows of events the run does not have (another server's
    # database, say): it starts over from a snapshot rather than keep a state that is wrong.
    return [_snapshot(run_id=run_id)]


def _after(query_string: bytes) -> int | None:
    """The `after` sequence number a reconnecting client sends; raises ValueError when malformed."""
    values = parse_qs(query_string.decode("latin-1")).get("after")
    if not values:
        return None
    after = int(values[-1])
    if after < 0:
        raise ValueError(after)
    return after


class RunConsumer(AsyncJsonWebsocketConsumer):
    """One run's events, for its owner."""

    run_id: uuid.UUID
    # The highest sequence number this client has been sent (a snapshot counts as all
    # events up to its own): anything at or below it is a duplicate.
    sent_seq: int

    async def connect(self) -> None:
        # Accepted first so that a refusal can say why: a close before the handshake
        # reaches the browser as a bare HTTP 403, without a code.
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.run_id = self.scope["url_route"]["kwargs"]["run_id"]
        try:
            after = _after(self.scope["query_string"])
        except ValueError:
            await self.close(code=CLOSE_BAD_REQUEST)
            return
        if not await database_sync_to_async(run_visible_to)(run_id=self.run_id, user_id=user.pk):
            await self.close(code=CLOSE_NOT_FOUND)
            return
        # Joined before reading the database: an event committed after that read is then
        # sure to arrive live, and one committed before it is dropped as already sent.
        await self.channel_layer.group_add(run_group(self.run_id), self.channel_name)
        self.groups.append(run_group(self.run_id))  # left on disconnect
        self.sent_seq = after or 0
        for message in await database_sync_to_async(_catch_up)(run_id=self.run_id, after=after):
            await self._send(message)

    async def run_event(self, group_message: dict[str, Any]) -> None:
        message = group_message["message"]
        seq = message["seq"]
        if seq <= self.sent_seq:
            return
        if seq == self.sent_seq + 1:
            await self._send(message)
        else:
            # Events of one run commit in sequence order, but their publications can cross
            # (parallel steps record from several threads) or be lost (a full Redis
            # channel): whatever is missing is committed already, so it is read back.
            for missed in await database_sync_to_async(_events_after)(run_id=self.run_id, seq=self.sent_seq):
                await self._send(missed)

    async def _send(self, message: dict[str, Any]) -> None:
        await self.send_json(message)
        self.sent_seq = message["seq"]


class UserRunsConsumer(AsyncJsonWebsocketConsumer):
    """Status changes of the user's runs, for the run list. The list itself comes from the
    API: a client subscribes first, then fetches it, and misses nothing in between."""

    async def connect(self) -> None:
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        await self.channel_layer.group_add(user_group(user.pk), self.channel_name)
        self.groups.append(user_group(user.pk))

    async def run_event(self, group_message: dict[str, Any]) -> None:
        await self.send_json(group_message["message"])


class UnknownPathConsumer(AsyncJsonWebsocketConsumer):
    """Any other WebSocket path: refused as an unknown run is, rather than left to the
    router, whose "no route" error is a traceback and an HTTP 500 handshake."""

    async def connect(self) -> None:
        await self.accept()
        await self.close(code=CLOSE_NOT_FOUND)
