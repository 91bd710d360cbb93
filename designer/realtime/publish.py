"""The one place that sends realtime events to channel-layer groups.

`designer.runs.recording` registers `publish_run_event` with `transaction.on_commit`, so a
client is never told about state that could still be rolled back, and a client that reads
the database after hearing of an event always finds it there. It takes plain data (the run,
its owner, the message), so it depends on no app: the apps that record events build on it.
The channel layer is the configured one: in memory in the embedded default (one process),
Redis when several processes and machines serve the same runs.
"""
from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

# The `type` of group messages; Channels dispatches them to the consumers' `run_event`.
GROUP_MESSAGE_TYPE = "run.event"


def run_group(run_id: Any) -> str:
    return f"run-{run_id}"


def user_group(user_id: Any) -> str:
    return f"user-{user_id}"


def _user_run_message(message: dict[str, Any], *, run_id: Any) -> dict[str, Any]:
    """What the owner's run list receives when one of their runs changes status, from the
    run's own `run_status` message."""
    return {"type": "run_status", "run_id": str(run_id), "status": message["status"], "seq": message["seq"],
            "at": message["at"]}


def publish_run_event(*, run_id: Any, owner_id: Any, message: dict[str, Any]) -> None:
    """Send a committed event's `message` to the run's subscribers, and run status changes to
    its owner's run list too (`owner_id` None: a run started from the CLI has no run list)."""
    layer = get_channel_layer()
    assert layer is not None, "settings always configure CHANNEL_LAYERS"
    send = async_to_sync(layer.group_send)
    send(run_group(run_id), {"type": GROUP_MESSAGE_TYPE, "message": message})
    if message["type"] == "run_status" and owner_id is not None:
        send(user_group(owner_id), {"type": GROUP_MESSAGE_TYPE, "message": _user_run_message(message, run_id=run_id)})
