"""Environment images: found or built when a step needs them, their builds recorded."""
from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from django.conf import settings

from designer.engine.backends import report_waiting
from designer.engine.environments import (
    EnvironmentBuilder, EnvironmentBuildError, EnvironmentSpec, normalize_requirements,
)
from designer.engine.events import Waiting

from .models import ComputeTarget, Environment, EnvironmentStatus
from .selectors import docker_engine


@cache
def environment_builder() -> EnvironmentBuilder:
    client = docker_engine()
    if client is None:
        raise EnvironmentBuildError("no Docker engine is reachable from this server")
    return EnvironmentBuilder(client=client, cache_dir=settings.ATELIER["ENVIRONMENTS_DIR"])


def environment_spec(environment: Environment) -> EnvironmentSpec:
    return EnvironmentSpec(
        name=environment.name,
        base_image=environment.base_image or settings.ATELIER["DOCKER_BASE_IMAGE"],
        requirements=normalize_requirements(environment.requirement_lines()),
        system_packages=environment.system_packages(),
    )


def _building(records: Any) -> None:
    records.update(status=EnvironmentStatus.BUILDING)
    # Called while a step is being started on it: the step's watchers learn why it waits.
    report_waiting(Waiting.ENVIRONMENT)


def environment_image(*, environment_id: int) -> str:
    """The environment's image tag, built first if it does not exist yet. The status, tag and
    build log are recorded; a failed build raises EnvironmentBuildError with pip's message."""
    environment = Environment.objects.get(pk=environment_id)
    records = Environment.objects.filter(pk=environment_id)
    try:
        built = environment_builder().ensure(
            environment_spec(environment), on_build=lambda: _building(records),
        )
    except EnvironmentBuildError as exc:
        records.update(status=EnvironmentStatus.FAILED, build_log=exc.log or str(exc))
        raise
    if built.built:
        records.update(
            status=EnvironmentStatus.READY, image_tag=built.tag, build_log=built.log(),
            built_at=dt.datetime.now(tz=dt.timezone.utc),
        )
    elif environment.image_tag != built.tag or environment.status != EnvironmentStatus.READY:
        # Found built (by a thread that waited on the same build, another server…): `environment`
        # may have been read before that build was recorded, so its build time and log stay.
        found = {"build_log": built.log()} if built.log() else {}
        records.update(status=EnvironmentStatus.READY, image_tag=built.tag, **found)
    return built.tag
