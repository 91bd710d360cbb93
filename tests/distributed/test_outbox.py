"""The outbox of distributed dispatch, against the real database and real Redis brokers (one
of them this test's own, which it stops and starts again empty): a step's task is recorded
with its state, sent after commit, sent again while no worker started it, and started once."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from designer.runs import orchestration, services
from designer.runs.models import OutboxTask
from tests.cluster import RedisServer, broker_url, point_celery_at

from .test_orchestration import step, submit


def queued_messages(url: str, queue: str = "local") -> int:
    return int(redis.Redis.from_url(url).llen(queue))


def later(seconds: float) -> dt.datetime:
    return dt.datetime.now(tz=dt.timezone.utc) + dt.timedelta(seconds=seconds)


@pytest.fixture
def own_broker(distributed: None, settings: Any, worker_id: str) -> Iterator[RedisServer]:
    """A broker of this test's own, to take away and bring back."""
    server = RedisServer()
    server.start()
    settings.CELERY_BROKER_URL = f"{server.url}/0"
    point_celery_at(settings.CELERY_BROKER_URL)
    try:
        yield server
    finally:
        server.stop()
        point_celery_at(broker_url(worker_id))


def test_a_step_task_waits_in_the_outbox_until_a_worker_starts_it_once(
    distributed: None, django_user_model: Any, settings: Any
) -> None:
    run = submit(django_user_model.objects.create_user("ada"))
    data = step(run, "data")
    [task] = OutboxTask.objects.all()
    assert (task.task_id, task.step_id, task.queue) == (data.task_id, data.pk, "local")
    assert task.sent_at is not None and task.sends == 1, "sent once its transaction committed"
    assert queued_messages(settings.CELERY_BROKER_URL) == 1

    first = orchestration._claim(run_id=str(run.pk), node="data", task_id=data.task_id)
    assert first is not None and not OutboxTask.objects.exists()
    again = orchestration._claim(run_id=str(run.pk), node="data", task_id=data.task_id)
    assert again is None, "a second delivery of a started task does nothing"
    assert step(run, "data").attempts == 1


def test_a_task_the_broker_did_not_take_is_sent_by_the_sweep(own_broker: RedisServer, django_user_model: Any,
                                                              settings: Any) -> None:
    own_broker.stop()
    run = submit(django_user_model.objects.create_user("ada"))  # no error: the outbox keeps the task

    [task] = OutboxTask.objects.all()
    assert task.task_id == step(run, "data").task_id and task.sent_at is None
    assert orchestration.outbox_resend() == 0, "just recorded: its relay is on it"

    own_broker.start()  # back, and empty
    assert orchestration.outbox_resend(now=later(settings.DISPATCH["SWEEP_S"] + 1)) == 1
    task.refresh_from_db()
    assert task.sent_at is not None and task.sends == 1
    assert queued_messages(settings.CELERY_BROKER_URL) == 1


def test_a_task_no_worker_started_is_sent_again_waiting_longer_each_time(
    own_broker: RedisServer, django_user_model: Any, settings: Any
) -> None:
    run = submit(django_user_model.objects.create_user("ada"))
    after = settings.DISPATCH["RESEND_AFTER_S"]
    assert orchestration.outbox_resend() == 0, "sent a moment ago: it waits in the queue"

    # The broker restarts empty: the task is lost, and sent again a while later.
    own_broker.stop()
    own_broker.start()
    assert orchestration.outbox_resend(now=later(after + 1)) == 1
    assert queued_messages(settings.CELERY_BROKER_URL) == 1
    assert orchestration.outbox_resend(now=later(after + 1)) == 0, "just sent again"
    assert orchestration.outbox_resend(now=later(3 * after + 2)) == 1, "then after twice as long"
    assert OutboxTask.objects.get().sends == 3

    # Two copies reach workers: the step runs once.
    data = step(run, "data")
    orchestration.step_execute(run_id=str(run.pk), node="data", task_id=data.task_id, worker="w@x")
    orchestration.step_execute(run_id=str(run.pk), node="data", task_id=data.task_id, worker="w@y")
    ran = step(run, "data")
    assert ran.status == "completed" and ran.attempts == 1 and ran.placement["worker"] == "w@x"


def test_the_outbox_forgets_the_tasks_of_steps_that_moved_on(distributed: None, django_user_model: Any) -> None:
    run = submit(django_user_model.objects.create_user("ada"))
    services.run_cancel(run=run)

    assert orchestration.outbox_resend(now=later(10**6)) == 0
    assert not OutboxTask.objects.exists()


def test_cancel_while_the_broker_is_away_neither_fails_nor_waits_for_it(
    own_broker: RedisServer, django_user_model: Any
) -> None:
    run = submit(django_user_model.objects.create_user("ada"))
    data = step(run, "data")
    assert orchestration._claim(run_id=str(run.pk), node="data", task_id=data.task_id) is not None
    own_broker.stop()

    cancelled = services.run_cancel(run=run)  # its worker hears of it at its next heartbeat
    assert cancelled.cancel_requested and cancelled.status == "running"
