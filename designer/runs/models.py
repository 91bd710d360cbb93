"""Runs, their step runs and their event log."""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from designer.engine.events import Status, Waiting


class RunStatus(models.TextChoices):
    QUEUED = Status.QUEUED.value
    RUNNING = Status.RUNNING.value
    COMPLETED = Status.COMPLETED.value
    FAILED = Status.FAILED.value
    CANCELLED = Status.CANCELLED.value


class StepStatus(models.TextChoices):
    QUEUED = Status.QUEUED.value
    PREPARING = Status.PREPARING.value
    RUNNING = Status.RUNNING.value
    COMPLETED = Status.COMPLETED.value
    REUSED = Status.REUSED.value
    FAILED = Status.FAILED.value
    CANCELLED = Status.CANCELLED.value
    SKIPPED = Status.SKIPPED.value


class StepWaiting(models.TextChoices):
    INPUTS = Waiting.INPUTS.value, "its inputs"
    SLOT = Waiting.SLOT.value, "a free slot (other steps are running)"
    WORKER = Waiting.WORKER.value, "a worker to take it"
    STEP_SERVER = Waiting.STEP_SERVER.value, "the step server to start"
    ENVIRONMENT = Waiting.ENVIRONMENT.value, "its environment to be built"


class RunSource(models.TextChoices):
    CLI = "cli"
    API = "api"
    CANVAS = "canvas"


class RunKind(models.TextChoices):
    PIPELINE = "pipeline"
    JOB = "job"  # people's own code (designer.jobs), run as a one-step pipeline


class Run(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pipeline_name = models.CharField(max_length=200)
    # The saved version it ran, when it came from one (a file run from the CLI did not).
    pipeline_version = models.ForeignKey(
        "pipelines.PipelineVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    # The pipeline file as submitted, and the plan compiled from it: what ran, exactly.
    pipeline = models.JSONField()
    plan = models.JSONField()
    parameters = models.JSONField(default=dict)
    compute = models.CharField(max_length=100, default="local")
    force_rerun = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    source = models.CharField(max_length=20, choices=RunSource.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_seq = models.PositiveBigIntegerField(default=0)
    # Nodes a "rerun from" forces to run again (they and what is downstream of them).
    force_nodes = models.JSONField(default=list, blank=True)
    # Set by a cancel request while steps of the run are still running on workers, or in
    # another server process (its driver stops the run at its next heartbeat).
    cancel_requested = models.BooleanField(default=False)
    # Embedded runs (executed by a server process or `run_pipeline`, not by Celery workers):
    # the process that drives the run (see leases.ProcessId) and when it last said it is
    # alive. A run whose driver went silent or is gone is taken over (leases, dispatch).
    driver = models.CharField(max_length=200, blank=True)
    driver_seen_at = models.DateTimeField(null=True, blank=True)
    kind = models.CharField(max_length=20, choices=RunKind.choices, default=RunKind.PIPELINE)
    # A job's file as submitted plus its snapshot (what ran, exactly); empty for pipelines.
    job = models.JSONField(default=dict, blank=True)
    # Runs grouped to compare their metrics (pipelines' runs too); "" for none.
    experiment = models.CharField(max_length=200, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["created_by", "-created_at"]),
            # The take-over sweep looks up unfinished runs.
            models.Index(fields=["status", "driver_seen_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.pipeline_name} ({self.status})"


class StepRun(models.Model):
    run = models.ForeignKey(Run, related_name="steps", on_delete=models.CASCADE)
    node = models.CharField(max_length=100)
    module = models.CharField(max_length=200)
    module_version = models.PositiveIntegerField()
    compute = models.CharField(max_length=100)
    status = models.CharField(max_length=20, choices=StepStatus.choices, default=StepStatus.QUEUED)
    reused = models.BooleanField(default=False)
    reused_from = models.CharField(max_length=64, blank=True)
    cache_key = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    outputs = models.JSONField(default=dict)
    metrics = models.JSONField(default=dict)
    visuals = models.JSONField(default=dict)
    images = models.CharField(max_length=64, blank=True)
    warnings = models.JSONField(default=list)
    # Where the step ran, as its compute backend tells it: worker, image, container…
    placement = models.JSONField(default=dict, blank=True)
    # What it waits for while queued or preparing (designer.engine.events.Waiting), for a
    # snapshot to say; empty when nothing is known or it does not wait.
    waiting = models.CharField(max_length=20, choices=StepWaiting.choices, blank=True)
    # Distributed runs (Celery): the dispatched task this step waits on (a task with another
    # id is a stale duplicate and is dropped), how many times a worker started it, and when
    # the worker running it last said it is alive.
    task_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # When its task was sent, and whether its run was told that no worker takes it.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    unserved_noted = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "node"], name="unique_step_per_run")]
        ordering = ["id"]
        # The lost-worker sweep looks up running steps by their last heartbeat.
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"{self.node} ({self.status})"


class RunEvent(models.Model):
    run = models.ForeignKey(Run, related_name="events", on_delete=models.CASCADE)
    seq = models.PositiveBigIntegerField()
    type = models.CharField(max_length=40)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="unique_event_seq")]
        ordering = ["seq"]


class OutboxTask(models.Model):
    """The outbox of distributed runs: a step's Celery task, recorded in the transaction that
    dispatches the step and sent to the broker once it commits. The row stays until a worker
    starts the task, so a message that never reached the broker, or that the broker lost
    (restarted empty), is sent again; a worker starts a task only by removing its row, so a
    duplicate delivery of the same task id does nothing."""

    task_id = models.CharField(max_length=64, unique=True)
    step = models.ForeignKey(StepRun, related_name="outbox", on_delete=models.CASCADE)
    queue = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)
    # When the broker last accepted it (null: never yet), and how many times it was sent.
    sent_at = models.DateTimeField(null=True, blank=True)
    sends = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.task_id} ({'sent' if self.sent_at else 'unsent'})"
