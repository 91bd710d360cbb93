"""The one place that sends realtime events to channel-layer groups.

`run_record_event` registers `publish_run_event` with `transaction.on_commit`, so a client
is never told about state that could still be rolled back, and a client that reads the
database after hearing of an event always finds it there. The channel layer is the
configured one: in memory in the embedded default (one process), Redis when several
processes and machines serve the same runs.
"""
from __future__ import annotations

import json
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from designer.runs.models import Run, RunEvent

# The `type` of group messages; Channels dispatches them to the consumers' `run_event`.
GROUP_MESSAGE_TYPE = "run.event"


def run_group(run_id: Any) -> str:
    return f"run-{run_id}"


def user_group(user_id: Any) -> str:
    return f"user-{user_id}"


def event_message(event: RunEvent) -> dict[str, Any]:
    """What a run's subscribers receive for one event: its payload (which names its `type`),
    its sequence number, and when it was recorded (seconds since the epoch, like step timings).

    Live and replayed events are built here alike, so a client cannot tell them apart.
    """
    # A just-created event still holds the engine's enums; this is the payload exactly as
    # the database stores it and a replay reads it back.
    payload: dict[str, Any] = json.loads(json.dumps(event.payload))
    return {**payload, "seq": event.seq, "at": event.created_at.timestamp()}


def _user_run_message(message: dict[str, Any], *, run_id: Any) -> dict[str, Any]:
    """What the owner's run list receives when one of their runs changes status, from the
    run's own `run_status` message."""
    return {"type": "run_status", "run_id": str(run_id), "status": message["status"], "seq": message["seq"],
            "at": message["at"]}


def publish_run_event(event: RunEvent) -> None:
    """Send a committed event to the run's subscribers, and run status changes to its owner's
    run list too."""
    layer = get_channel_layer()
    assert layer is not None, "settings always configure CHANNEL_LAYERS"
    send = async_to_sync(layer.group_send)
    message = event_message(event)
    send(run_group(event.run_id), {"type": GROUP_MESSAGE_TYPE, "message": message})
    if event.type != "run_status":
        return
    owner_id = Run.objects.filter(pk=event.run_id).values_list("created_by_id", flat=True).first()
    if owner_id is not None:  # runs started from the CLI have no owner, and no run list
        owner_message = _user_run_message(message, run_id=event.run_id)
        send(user_group(owner_id), {"type": GROUP_MESSAGE_TYPE, "message": owner_message})
