"""The engine, configured from Django settings: the one place that wires store, backends
and resources together for this deployment."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any, Callable

from django.conf import settings
from django.db import connection

from designer.compute.models import Backend, ComputeTarget
from designer.compute.selectors import compute_target_available, compute_target_list, docker_engine
from designer.compute.services import environment_image, environment_spec
from designer.engine.artifact_store import ArtifactStore, LocalArtifactStore, RemoteArtifactStore
from designer.engine.cache_keys import container_environment_id, local_environment_id
from designer.engine.dataset_catalog import DatasetCatalog, FolderDatasetCatalog
from designer.engine.docker_backend import ContainerLimits, DockerBackend
from designer.engine.environments import BUILD_RECIPE_VERSION
from designer.engine.events import Event
from designer.engine.executor import ComputeBackend, Executor
from designer.engine.local_backend import LocalBackend
from designer.engine.table_workers import TableWorkers
from modules.builtin.sql import RESOURCE_KEY as SQL_LIMITS_KEY
from modules.sdk import Registry, default_registry
from modules.sdk.table_limits import RESOURCE_KEY as TABLE_LIMITS_KEY
from modules.sdk.table_limits import TableLimits


def registry() -> Registry:
    return default_registry()


def compute_targets() -> list[str]:
    """The compute targets pipelines may name here: those whose engine is reachable."""
    return [t.name for t in compute_target_list() if compute_target_available(t)]


def unavailable_compute_targets() -> dict[str, str]:
    """The compute targets that exist but cannot run steps here now, with the reason."""
    return {
        t.name: "no Docker engine is reachable from this server"
        for t in compute_target_list() if not compute_target_available(t)
    }


def environment_of(compute: str) -> str:
    """The environment a compute target runs steps in, for cache keys: a docker target's
    outputs are not reused by a local step, nor by a target with other requirements."""
    target = compute_target_list().filter(name=compute, backend=Backend.DOCKER).select_related("environment").first()
    if target is None or target.environment is None:
        return local_environment_id()
    spec = environment_spec(target.environment)
    return container_environment_id(
        base_image=spec.base_image, requirements=spec.all_requirements(), recipe=BUILD_RECIPE_VERSION
    )


def datasets_dir(user: Any = None) -> Path:
    """The dataset catalog folder of `user` (datasets are per user); None: the shared one
    that CLI runs use. Apart, so that no dataset name can be taken for a user's folder."""
    root = Path(settings.ATELIER["DATASETS_DIR"])
    return root / "shared" if user is None else root / "users" / str(user.pk)


def _dataset_catalog(user: Any) -> DatasetCatalog:
    """Where Export Data registers: the shared folder for CLI runs; for a user's runs, their
    catalog with a database row per version, so exports are listed like uploads."""
    if user is None:
        return FolderDatasetCatalog(datasets_dir(None))
    from designer.datasets.services import OwnerDatasetCatalog  # datasets build on this module

    return OwnerDatasetCatalog(user)


def table_limits() -> TableLimits:
    """The largest table anything here reads (the settings' MAX_TABLE_*)."""
    return TableLimits(**settings.ATELIER["TABLE_LIMITS"])


@cache
def _table_workers(workers: int, memory_mb: int) -> TableWorkers:
    return TableWorkers(workers=workers, memory_mb=memory_mb)


def table_workers() -> TableWorkers:
    """The processes this server reads tables in (previews, profiles, uploads), started
    on first use."""
    conf = settings.ATELIER
    return _table_workers(conf["TABLE_WORKERS"], conf["TABLE_WORKER_MEMORY_MB"])


def step_resources(user: Any = None) -> dict[str, Any]:
    """What steps may read besides their inputs (passed to modules as ctx.resources); a run
    owned by `user` reads that user's datasets. Steps hold their tables to the same limits,
    and SQL queries to theirs."""
    conf = settings.ATELIER
    return {
        "datasets_dir": str(datasets_dir(user)), "data_roots": [str(p) for p in conf["DATA_ROOTS"]],
        TABLE_LIMITS_KEY: table_limits().to_json(), SQL_LIMITS_KEY: dict(conf["SQL_LIMITS"]),
    }


@cache
def _local_backend(capacity: int, memory_mb: int | None) -> LocalBackend:
    # One per process: its fork server is started once and reused by every run.
    return LocalBackend(capacity=capacity, memory_limit_mb=memory_mb)


@dataclass(frozen=True)
class _DockerTarget:
    name: str
    capacity: int
    limits: ContainerLimits
    environment_id: int


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
    # One per process and configuration: its warm containers serve every run.
    conf = settings.ATELIER
    return DockerBackend(
        name=target.name, capacity=target.capacity, limits=target.limits, warm_pool=conf["DOCKER_WARM_POOL"],
        image=partial(_environment_image, target.environment_id),
        scratch_dir=conf["DOCKER_SCRATCH_DIR"], client=docker_engine(),
    )


class _UnavailableBackend:
    """Stands for a target whose engine is not reachable, so that a run recorded for it
    fails those steps with a clear error instead of stopping."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.capacity = 1

    def start(self, request: dict[str, Any], step_dir: Path) -> Any:
        raise RuntimeError(f"compute {self.name!r} is not available: no Docker engine is reachable from this server")


def _backend(target: ComputeTarget) -> ComputeBackend:
    conf = settings.ATELIER
    if target.backend == Backend.LOCAL:
        return _local_backend(target.capacity or conf["LOCAL_MAX_PARALLEL"], target.memory_mb)
    if not compute_target_available(target) or target.environment_id is None:
        return _UnavailableBackend(target.name)
    limits = ContainerLimits(
        memory_mb=target.memory_mb or conf["DOCKER_MEMORY_MB"], cpus=target.cpus or conf["DOCKER_CPUS"],
        pids=target.pids or conf["DOCKER_PIDS"], tmpfs_mb=conf["DOCKER_TMPFS_MB"],
    )
    return _docker_backend(_DockerTarget(
        target.name, target.capacity or conf["DOCKER_CAPACITY"], limits, target.environment_id,
    ))


def artifact_store() -> ArtifactStore:
    conf = settings.ATELIER
    location = str(conf["ARTIFACT_STORE"])
    if "://" in location:
        return RemoteArtifactStore(location, conf["ARTIFACT_CACHE"], storage_options=conf["ARTIFACT_STORE_OPTIONS"])
    return LocalArtifactStore(Path(location))


def build_executor(
    on_event: Callable[[Event], None], user: Any = None, placement: dict[str, Any] | None = None
) -> Executor:
    """An executor for a run owned by `user` (None: the shared catalog of CLI runs);
    `placement` says where it runs (e.g. which worker), for the step runs to record."""
    conf = settings.ATELIER
    return Executor(
        store=artifact_store(),
        backends={t.name: _backend(t) for t in compute_target_list()},
        resources=step_resources(user),
        datasets=_dataset_catalog(user),
        on_event=on_event,
        default_timeout=conf["STEP_TIMEOUT_S"],
        placement=placement,
    )
