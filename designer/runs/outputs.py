"""What the outputs panel shows of a table artifact: a page of rows and per-column statistics,
and for a multiclass scored table, one-vs-rest curves of each class.

Statistics describe the whole table, not the page, so a user scrolling a preview sees the
same numbers throughout. They cost seconds on a large table, so they are computed once per
stored table and kept in the `previews` cache; a page is cut from the Arrow table, and only
the page (and, to sort, the sort column) is converted to pandas. Every value returned is
plain JSON: NaN and infinities become null, timestamps ISO strings.
"""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from django.core.cache import caches

from modules.builtin.evaluation import (
    CLASS_PROBABILITY_PREFIX, SCORED_LABELS, SCORED_PROBABILITIES, evaluate_scored,
)
from modules.sdk import ModuleError
from modules.sdk.artifacts import TABLE_FILE, read_table
from modules.sdk.schema import ColumnKind, column_kind, roles_of, set_roles

HISTOGRAM_BINS = 20
TOP_VALUES = 10
MAX_PAGE_ROWS = 1000
# Part of the cache key: a change to what the statistics hold makes earlier entries unreachable.
STATISTICS_FORMAT = 1


class PreviewError(ValueError):
    """A preview request the table cannot answer (e.g. sorting by a column it lacks)."""


def _number(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def _plain(value: Any) -> Any:
    """One cell as JSON: numpy scalars to Python, timestamps to ISO, missing to null."""
    return json.loads(pd.Series([value], dtype=object).to_json(orient="records", date_format="iso"))[0]


def column_statistics(series: pd.Series, *, role: str | None = None) -> dict[str, Any]:
    kind = column_kind(series)
    present = series.dropna()
    try:
        unique = int(present.nunique())
    except TypeError:  # unhashable cells (lists, dicts) are counted by their text
        present = present.astype(str)
        unique = int(present.nunique())
    stats: dict[str, Any] = {
        "name": str(series.name),
        "type": kind.value,
        "dtype": str(series.dtype),
        "role": role,
        "count": int(present.size),
        "missing": int(series.size - present.size),
        "unique": unique,
        "min": None, "max": None, "mean": None, "std": None,
        "top_values": [],
        "histogram": None,
    }
    if kind is ColumnKind.NUMERIC and present.size:
        values = present.to_numpy(dtype=float)
        with np.errstate(invalid="ignore", over="ignore"):  # infinities make these null, not noise
            stats.update(
                min=_number(values.min()), max=_number(values.max()), mean=_number(values.mean()),
                # The sample standard deviation, as pandas reports it (null for a single value).
                std=_number(present.std()) if present.size > 1 else None,
            )
        finite = values[np.isfinite(values)]
        if finite.size:
            counts, edges = np.histogram(finite, bins=HISTOGRAM_BINS)
            stats["histogram"] = {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]}
    elif kind is ColumnKind.DATETIME and present.size:
        stats.update(min=_plain(present.min()), max=_plain(present.max()))
    else:
        top = present.value_counts().head(TOP_VALUES)
        stats["top_values"] = [{"value": _plain(value), "count": int(count)} for value, count in top.items()]
    return stats


def _sort_positions(table: pa.Table, sort: str) -> pd.Index:
    """Row positions of `table` ordered by `sort` (a column name, `-name` for descending), as
    pandas orders them: stable, missing values last. Only the sort column is converted."""
    column, descending = (sort[1:], True) if sort.startswith("-") else (sort, False)
    if column not in table.column_names:
        raise PreviewError(f"the table has no column {column!r} to sort by")
    key = table.select([column]).to_pandas()[column]
    try:
        ordered = key.sort_values(ascending=not descending, kind="stable", na_position="last")
    except TypeError:  # mixed types in one column: order them by their text
        ordered = key.sort_values(
            ascending=not descending, kind="stable", na_position="last", key=lambda s: s.astype(str)
        )
    return ordered.index


def _statistics_key(path: Path) -> str:
    # Stored tables are never rewritten in place (store folders are content-addressed and
    # written by atomic rename, dataset versions are immutable), so the file's identity
    # names its content.
    info = path.stat()
    identity = f"{STATISTICS_FORMAT}:{path.resolve()}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}"
    return "table-statistics:" + hashlib.sha256(identity.encode()).hexdigest()


def table_statistics(*, folder: Path) -> dict[str, Any]:
    """The row count and every column's statistics of the table stored in `folder`."""
    path = folder / TABLE_FILE
    cache = caches["previews"]
    key = _statistics_key(path)
    statistics = cache.get(key)
    if statistics is None:
        df = read_table(folder)
        roles = roles_of(df)
        statistics = {
            "total_rows": len(df),
            "columns": [column_statistics(df[c], role=roles.get(str(c))) for c in df.columns],
        }
        cache.set(key, statistics)
    return statistics


def table_preview(*, folder: Path, offset: int = 0, limit: int = 100, sort: str | None = None) -> dict[str, Any]:
    """Rows `offset` to `offset + limit` of the table stored in `folder` (after sorting by
    `sort`, a column name, `-name` for descending), with every column's statistics."""
    if offset < 0 or not 1 <= limit <= MAX_PAGE_ROWS:
        raise PreviewError(f"offset must be at least 0 and limit between 1 and {MAX_PAGE_ROWS}")
    table = pq.read_table(folder / TABLE_FILE)
    if sort:
        rows = table.take(pa.array(_sort_positions(table, sort)[offset:offset + limit], type=pa.int64()))
    else:
        rows = table.slice(offset, limit)
    page = rows.to_pandas()
    return {
        **table_statistics(folder=folder),
        "offset": offset,
        "limit": limit,
        "sort": sort or None,
        "rows": json.loads(page.to_json(orient="values", date_format="iso")) if len(page) else [],
    }


def class_curves(*, folder: Path) -> dict[str, Any]:
    """One-vs-rest evaluation of every class of the multiclass scored table in `folder`
    (Score Model's output): each class against all the others, as Evaluate Model scores a
    two-class table (same metrics, same ROC and precision-recall curves). Evaluate Model
    records only a confusion matrix for multiclass tables; these are its curves."""
    df = read_table(folder)
    roles = roles_of(df)
    labels = [c for c, r in roles.items() if r == "label"]
    columns = [c for c, r in roles.items() if r == "score" and c.startswith(CLASS_PROBABILITY_PREFIX)]
    if len(labels) != 1 or not columns or SCORED_LABELS not in df.columns:
        raise PreviewError(
            "per-class curves need a multiclass scored table: Score Model's output, with one label column "
            f"and a {CLASS_PROBABILITY_PREFIX}<class> column for each class"
        )
    if df.empty:
        raise PreviewError("the scored table has no rows")
    # Class names come back from the probability column names, so compare as text (as Evaluate Model does).
    actual, predicted = df[labels[0]].astype(str), df[SCORED_LABELS].astype(str)
    classes = []
    for column in columns:
        name = column[len(CLASS_PROBABILITY_PREFIX):]
        one_vs_rest = set_roles(
            pd.DataFrame({"is_class": actual == name, SCORED_LABELS: predicted == name, SCORED_PROBABILITIES: df[column]}),
            {"is_class": "label", SCORED_LABELS: "score", SCORED_PROBABILITIES: "score"},
        )
        try:
            evaluation = evaluate_scored(one_vs_rest)
        except ModuleError:  # a class neither in the table nor ever predicted: nothing to draw
            classes.append({"class": name, "rows": 0, "metrics": {}, "roc": None, "precision_recall": None})
            continue
        classes.append({
            "class": name,
            "rows": int((actual == name).sum()),
            "metrics": {metric: _number(value) for metric, value in evaluation.metrics.items()},
            "roc": evaluation.visuals["roc"],
            "precision_recall": evaluation.visuals["precision_recall"],
        })
    return {"label": labels[0], "classes": classes}
