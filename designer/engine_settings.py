"""The engine's parts as this deployment's settings configure them: the module registry, the
artifact store, where each user's datasets are, the table limits and the table workers, and
what steps may read besides their inputs. Below every app: it knows settings, the engine and
the modules, and nothing of the apps' models.
"""
from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings

from designer.engine.artifact_store import ArtifactStore, LocalArtifactStore, RemoteArtifactStore
from designer.engine.table_workers import TableWorkers
from modules.builtin.sql import RESOURCE_KEY as SQL_LIMITS_KEY
from modules.sdk import Registry, default_registry
from modules.sdk.table_limits import RESOURCE_KEY as TABLE_LIMITS_KEY
from modules.sdk.table_limits import TableLimits

logger = logging.getLogger(__name__)


def registry() -> Registry:
    """The modules this deployment runs: the built-ins and the installed packs'."""
    return default_registry()


def datasets_dir(user: Any = None) -> Path:
    """The dataset catalog folder of `user` (datasets are per user); None: the shared one
    that CLI runs use. Apart, so that no dataset name can be taken for a user's folder."""
    root = Path(settings.ATELIER["DATASETS_DIR"])
    return root / "shared" if user is None else root / "users" / str(user.pk)


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


def artifact_store() -> ArtifactStore:
    """Where steps' outputs are kept: a folder, or an fsspec URL with a local cache."""
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
