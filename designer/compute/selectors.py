"""Reads: the compute targets, and whether the Docker engine they may need is reachable."""
from __future__ import annotations

from functools import cache

import docker
import docker.errors
from django.db.models import QuerySet

from .models import ComputeTarget, Environment


@cache
def docker_engine() -> docker.DockerClient | None:
    """The Docker engine of this deployment (DOCKER_HOST, else the local socket), or None
    when none answers. Checked once per process."""
    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except docker.errors.DockerException:
        return None
    return client


def compute_target_list() -> QuerySet[ComputeTarget]:
    return ComputeTarget.objects.select_related("environment").order_by("name")


def environment_list() -> QuerySet[Environment]:
    return Environment.objects.order_by("name")
