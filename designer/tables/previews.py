"""What the outputs panel and the dataset pages show of a stored table: a page of rows and
per-column statistics, per-class curves of a multiclass scored table, the table as CSV.

The work (designer.engine.table_views) reads whole tables, so it runs in the server's
table workers, each within a memory limit, never in the web process; a table over the
table limits, or one that needs more memory than a worker has, is refused with a
`TableUnavailable` (a structured 400) that says which limit.

Statistics describe the whole table, not the page, so a user scrolling a preview sees the
same numbers throughout. They cost seconds on a large table, so they are computed once per
stored table and kept in the `previews` cache.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, ParamSpec, TypeVar

from django.core.cache import caches
from rest_framework import status
from rest_framework.exceptions import APIException

from designer.engine import table_views
from designer.engine.table_views import MAX_PAGE_ROWS, PreviewError
from designer.engine.table_workers import TableWorkerOutOfMemory
from modules.sdk import ModuleError
from modules.sdk.artifacts import TABLE_FILE

from designer import engine_settings

__all__ = ["MAX_PAGE_ROWS", "PreviewError", "TableUnavailable", "class_curves", "table_csv", "table_preview",
           "table_statistics"]

P = ParamSpec("P")
T = TypeVar("T")
# Part of the cache key: a change to what the statistics hold makes earlier entries unreachable.
STATISTICS_FORMAT = 1


class TableUnavailable(APIException):
    """A stored table that cannot be shown: over the table limits, needing more memory than
    a table worker has, or not a readable table."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "table_too_large"

    def __init__(self, message: str, code: str) -> None:
        super().__init__({"table": [message]}, code=code)


def in_table_worker(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """`fn(*args, **kwargs)` run in a table worker, its refusals as TableUnavailable."""
    try:
        return engine_settings.table_workers().run(fn, *args, **kwargs)
    except TableWorkerOutOfMemory as exc:
        raise TableUnavailable(exc.message, "out_of_memory") from None
    except ModuleError as exc:  # TableTooLarge, or a file that is not a readable table
        raise TableUnavailable(exc.message, exc.code) from None


def _statistics_key(path: Path) -> str:
    # Stored tables are never rewritten in place (store folders are content-addressed and
    # written by atomic rename, dataset versions are immutable), so the file's identity
    # names its content.
    info = path.stat()
    identity = f"{STATISTICS_FORMAT}:{path.resolve()}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}"
    return "table-statistics:" + hashlib.sha256(identity.encode()).hexdigest()


def table_statistics(*, folder: Path) -> dict[str, Any]:
    """The row count and every column's statistics of the table stored in `folder`."""
    cache = caches["previews"]
    key = _statistics_key(folder / TABLE_FILE)
    statistics = cache.get(key)
    if statistics is None:
        statistics = in_table_worker(table_views.stored_table_statistics, folder, limits=engine_settings.table_limits())
        cache.set(key, statistics)
    return statistics


def table_preview(*, folder: Path, offset: int = 0, limit: int = 100, sort: str | None = None) -> dict[str, Any]:
    """Rows `offset` to `offset + limit` of the table stored in `folder` (after sorting by
    `sort`, a column name, `-name` for descending), with every column's statistics."""
    cache = caches["previews"]
    key = _statistics_key(folder / TABLE_FILE)
    statistics = cache.get(key)
    page = in_table_worker(
        table_views.table_page, folder, offset=offset, limit=limit, sort=sort, statistics=statistics is None,
        limits=engine_settings.table_limits(),
    )
    if statistics is None:
        statistics = page["statistics"]
        cache.set(key, statistics)
    return {**statistics, "offset": offset, "limit": limit, "sort": sort or None, "rows": page["rows"]}


def class_curves(*, folder: Path) -> dict[str, Any]:
    """One-vs-rest evaluation of every class of the multiclass scored table in `folder`
    (table_views.class_curves)."""
    return in_table_worker(table_views.class_curves, folder, limits=engine_settings.table_limits())


def table_csv(*, folder: Path, escape_formulas: bool) -> IO[bytes]:
    """The table stored in `folder` as CSV, in an open file that is gone once closed."""
    handle, name = tempfile.mkstemp(prefix="atelier-csv-", suffix=".csv")
    try:
        in_table_worker(
            table_views.table_csv_write, folder, Path(name), escape_formulas=escape_formulas,
            limits=engine_settings.table_limits(),
        )
        return os.fdopen(handle, "rb")
    except BaseException:
        os.close(handle)
        raise
    finally:
        os.unlink(name)  # the open file lives on until closed
