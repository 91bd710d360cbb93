"""The compute backends of this deployment: Atelier's own kinds (`local`, `docker`) and the
ones packs register, and the backend each compute target runs its steps with.

Backends are built once per process and configuration: the local one's step servers and
the docker one's warm containers then serve every run.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

from designer.engine.backends import BackendRegistry, ComputeBackend, DefaultTarget, TargetSettings
from designer.engine.cache_keys import container_environment_id, local_environment_id
from designer.engine.docker_backend import ContainerLimits, DockerBackend
from designer.engine.environments import BUILD_RECIPE_VERSION
from designer.engine.local_backend import LocalBackend, StepLimits, sandbox_unavailable

from .models import ComputeTarget, Environment
from .selectors import docker_engine
from .services import environment_image, environment_spec

logger = logging.getLogger(__name__)

_SANDBOX_MODES = {"auto": None, "required": True, "off": False}


class LocalKind:
    name = "local"
    label = "Local processes"
    default_targets: tuple[DefaultTarget, ...] = (DefaultTarget("local", "Processes on the machine running Atelier."),)

    def unavailable(self) -> str | None:
        return None

    def build(self, target: TargetSettings) -> ComputeBackend:
        conf = target.defaults
        limits = StepLimits(
            memory_mb=target.memory_mb or conf["LOCAL_MEMORY_MB"], processes=conf["LOCAL_PROCESSES"],
            cpu_s=conf["LOCAL_CPU_S"], file_mb=conf["LOCAL_FILE_MB"], tmp_mb=conf["LOCAL_TMP_MB"],
        )
        return _local_backend(
            target.capacity or conf["LOCAL_MAX_PARALLEL"], limits, conf["LOCAL_SANDBOX"], conf["LOCAL_SCRATCH_DIR"],
        )


@cache
def _local_backend(capacity: int, limits: StepLimits, sandbox: str, scratch: Path) -> LocalBackend:
    backend = LocalBackend(capacity=capacity, limits=limits, sandbox=_SANDBOX_MODES[sandbox], scratch_dir=scratch)
    if not backend.sandboxed:
        logger.warning("local steps run without a sandbox (%s): only staff may run code on local compute",
                       sandbox_unavailable() or "ATELIER_LOCAL_SANDBOX=off")
    return backend


class DockerKind:
    name = "docker"
    label = "Docker containers"
    default_targets: tuple[DefaultTarget, ...] = (DefaultTarget(
        "docker", "Containers on the Docker engine: no network, read-only, limited.", needs_environment=True,
    ),)

    def unavailable(self) -> str | None:
        return None if docker_engine() is not None else "no Docker engine is reachable from this server"

    def build(self, target: TargetSettings) -> ComputeBackend:
        conf = target.defaults
        if self.unavailable() or target.environment_id is None:
            return UnavailableBackend(target.name, self.unavailable() or "it has no environment")
        limits = ContainerLimits(
            memory_mb=target.memory_mb or conf["DOCKER_MEMORY_MB"], cpus=target.cpus or conf["DOCKER_CPUS"],
            pids=target.pids or conf["DOCKER_PIDS"], tmpfs_mb=conf["DOCKER_TMPFS_MB"],
        )
        return _docker_backend(_DockerTarget(
            target.name, target.capacity or conf["DOCKER_CAPACITY"], limits, target.environment_id,
            conf["DOCKER_WARM_POOL"], conf["DOCKER_SCRATCH_DIR"],
        ))


@dataclass(frozen=True)
class _DockerTarget:
    name: str
    capacity: int
    limits: ContainerLimits
    environment_id: int
    warm_pool: int
    scratch: Path


def _environment_image(environment_id: int) -> str:
    """The image a docker step starts from, asked on the thread that starts the step."""
    try:
        return environment_image(environment_id=environment_id)
    finally:
        # That thread ends with the start: its connection goes back now, not when it is
        # collected (a transaction of the caller's, if any, is left alone).
        if not connection.in_atomic_block:
            connection.close()


@cache
def _docker_backend(target: _DockerTarget) -> DockerBackend:
    return DockerBackend(
        name=target.name, capacity=target.capacity, limits=target.limits, warm_pool=target.warm_pool,
        image=partial(_environment_image, target.environment_id), scratch_dir=target.scratch, client=docker_engine(),
    )


class UnavailableBackend:
    """Stands for a target that cannot run steps here now, so that a run recorded for it
    fails those steps with a clear error instead of stopping."""

    starts_slowly = False
    sandboxed = True  # it runs nothing at all

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.capacity = 1
        self.reason = reason

    def start(self, request: dict[str, Any], step_dir: Path) -> Any:
        raise RuntimeError(f"compute {self.name!r} is not available: {self.reason}")


@cache
def backend_registry() -> BackendRegistry:
    """Atelier's kinds and those of the installed packs (a broken pack is skipped)."""
    registry = BackendRegistry()
    registry.add(LocalKind())
    registry.add(DockerKind())
    registry.load_packs()
    return registry.freeze()


def target_settings(target: ComputeTarget) -> TargetSettings:
    return TargetSettings(
        name=target.name, capacity=target.capacity, memory_mb=target.memory_mb, cpus=target.cpus, pids=target.pids,
        environment=environment_spec(target.environment) if target.environment else None,
        environment_id=target.environment_id, defaults=settings.ATELIER,
    )


def compute_target_unavailable(target: ComputeTarget) -> str | None:
    """Why `target` cannot run steps here now (None: it can)."""
    kind = backend_registry().get(target.backend)
    if kind is None:
        return f"its compute backend {target.backend!r} is not installed on this server"
    return kind.unavailable()


def compute_target_available(target: ComputeTarget) -> bool:
    return compute_target_unavailable(target) is None


def backend_of(target: ComputeTarget) -> ComputeBackend:
    kind = backend_registry().get(target.backend)
    reason = compute_target_unavailable(target)
    if kind is None or reason is not None:
        return UnavailableBackend(target.name, reason or "")
    return kind.build(target_settings(target))


def environment_id_of(target: ComputeTarget | None) -> str:
    """The environment `target` runs steps in, for cache keys: a container target's outputs
    are not reused by a local step, nor by a target with other requirements."""
    if target is None or target.environment is None:
        return local_environment_id()
    spec = environment_spec(target.environment)
    return container_environment_id(
        base_image=spec.base_image, requirements=spec.all_requirements(), recipe=BUILD_RECIPE_VERSION
    )


def compute_targets_seed() -> list[str]:
    """Create the default targets of every registered kind that do not exist yet (a pack's
    targets appear once it is installed and the deployment migrates); existing targets are
    left as the admin set them. Returns the names created."""
    created = []
    for kind in backend_registry():
        for default in kind.default_targets:
            environment = None
            if default.needs_environment:
                environment, _ = Environment.objects.get_or_create(
                    name="default", defaults={"description": "What the built-in modules need."}
                )
            _, made = ComputeTarget.objects.get_or_create(
                name=default.name,
                defaults={"backend": kind.name, "description": default.description, "environment": environment},
            )
            if made:
                created.append(default.name)
    return created
