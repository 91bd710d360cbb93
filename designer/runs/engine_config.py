"""The engine, configured from Django settings: the one place that wires store, backends
and resources together for this deployment."""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Callable

from django.conf import settings

from designer.engine.artifact_store import ArtifactStore, LocalArtifactStore, RemoteArtifactStore
from designer.engine.dataset_catalog import DatasetCatalog, FolderDatasetCatalog
from designer.engine.events import Event
from designer.engine.executor import Executor
from designer.engine.local_backend import LocalBackend
from modules.sdk import Registry, default_registry


def registry() -> Registry:
    return default_registry()


def compute_targets() -> list[str]:
    return ["local"]


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


def step_resources(user: Any = None) -> dict[str, Any]:
    """What steps may read besides their inputs (passed to modules as ctx.resources); a run
    owned by `user` reads that user's datasets."""
    conf = settings.ATELIER
    return {"datasets_dir": str(datasets_dir(user)), "data_roots": [str(p) for p in conf["DATA_ROOTS"]]}


@cache
def _local_backend(capacity: int) -> LocalBackend:
    # One per process: its fork server is started once and reused by every run.
    return LocalBackend(capacity=capacity)


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
        backends={"local": _local_backend(conf["LOCAL_MAX_PARALLEL"])},
        resources=step_resources(user),
        datasets=_dataset_catalog(user),
        on_event=on_event,
        default_timeout=conf["STEP_TIMEOUT_S"],
        placement=placement,
    )
