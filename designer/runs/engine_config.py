"""The engine, configured from Django settings: the one place that wires store, backends
and resources together for this deployment."""
from __future__ import annotations

import logging
from functools import cache, partial
from pathlib import Path
from typing import Any, Callable

from django.conf import settings

from designer.compute.backends import (
    backend_of, compute_target_available, compute_target_unavailable, environment_id_of,
)
from designer.compute.selectors import compute_target_list
from designer.engine.artifact_store import ArtifactStore, LocalArtifactStore, RemoteArtifactStore
from designer.engine.dataset_catalog import DatasetCatalog, FolderDatasetCatalog
from designer.engine.events import Event
from designer.engine.executor import Executor
from designer.engine.table_workers import TableWorkers
from designer.engine.url_fetch import url_fetch
from modules.builtin.r_script import R
from modules.builtin.sql import RESOURCE_KEY as SQL_LIMITS_KEY
from modules.sdk import Registry, default_registry
from modules.sdk.table_limits import RESOURCE_KEY as TABLE_LIMITS_KEY
from modules.sdk.table_limits import TableLimits

logger = logging.getLogger(__name__)


def registry() -> Registry:
    return default_registry()


def compute_targets() -> list[str]:
    """The compute targets pipelines may name here: those that can run steps now."""
    return [t.name for t in compute_target_list() if compute_target_available(t)]


def unavailable_compute_targets() -> dict[str, str]:
    """The compute targets that exist but cannot run steps here now, with the reason."""
    return {
        t.name: reason for t in compute_target_list() if (reason := compute_target_unavailable(t)) is not None
    }


def compute_runtimes() -> dict[str, tuple[str, ...]]:
    """The programs besides Python each compute target provides: R on a docker target whose
    environment includes it."""
    return {
        t.name: (R,) for t in compute_target_list().select_related("environment")
        if t.backend == "docker" and t.environment is not None and t.environment.with_r
    }


def environment_of(compute: str) -> str:
    """The environment a compute target runs steps in, for cache keys."""
    return environment_id_of(compute_target_list().filter(name=compute).first())


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


def trusted_with_code(user: Any) -> bool:
    """Whether `user`'s code may run where no sandbox confines it: staff, or the operator at
    the command line (no user)."""
    return user is None or bool(user.is_staff)


def code_refused(user: Any) -> dict[str, str]:
    """The compute targets where `user` may not run modules that run users' code, and why."""
    if trusted_with_code(user):
        return {}
    return {
        t.name: "has no sandbox on this server, so only staff may run code there: choose a docker compute "
                "target, or ask an administrator to install bubblewrap"
        for t in compute_target_list() if not backend_of(t).sandboxed
    }


def artifact_store() -> ArtifactStore:
    conf = settings.ATELIER
    location = str(conf["ARTIFACT_STORE"])
    if "://" in location:
        store = RemoteArtifactStore(
            location, conf["ARTIFACT_CACHE"], storage_options=conf["ARTIFACT_STORE_OPTIONS"]
        )
        _sweep_once(store.local)
        return store
    local = LocalArtifactStore(Path(location))
    _sweep_once(local)
    return local


_swept_stores: set[Path] = set()


def _sweep_once(store: LocalArtifactStore) -> None:
    """Once per process and store: the step folders of attempts whose process was killed."""
    if store.root not in _swept_stores:
        _swept_stores.add(store.root)
        swept = store.sweep_abandoned()
        if swept:
            logger.info("removed %d step folder(s) left by killed processes in %s", swept, store.root)


def build_executor(
    on_event: Callable[[Event], None], user: Any = None, placement: dict[str, Any] | None = None
) -> Executor:
    """An executor for a run owned by `user` (None: the shared catalog of CLI runs);
    `placement` says where it runs (e.g. which worker), for the step runs to record."""
    conf = settings.ATELIER
    return Executor(
        store=artifact_store(),
        backends={t.name: backend_of(t) for t in compute_target_list()},
        resources=step_resources(user),
        datasets=_dataset_catalog(user),
        on_event=on_event,
        default_timeout=conf["STEP_TIMEOUT_S"],
        placement=placement,
        trusted=trusted_with_code(user),
        fetch=partial(url_fetch, max_bytes=conf["URL_MAX_BYTES"], allowed_networks=conf["URL_ALLOWED_NETWORKS"]),
    )
