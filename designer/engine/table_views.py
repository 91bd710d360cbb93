"""What people see of a stored table: a page of rows, per-column statistics, per-class
curves of a scored table, and the table as CSV.

These read whole tables, so the server runs them in its table workers (table_workers.py),
each within a memory limit, and every read is checked against the table limits first.
Every value returned is plain JSON: NaN and infinities become null, timestamps ISO strings.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from modules.builtin.evaluation import (
    CLASS_PROBABILITY_PREFIX, SCORED_LABELS, SCORED_PROBABILITIES, evaluate_scored,
)
from modules.builtin.tabular_io import csv_write
from modules.sdk import ModuleError
from modules.sdk.artifacts import TABLE_FILE, read_arrow_table, read_table, table_frame
from modules.sdk.schema import ColumnKind, column_kind, roles_of, set_roles
from modules.sdk.table_limits import TableLimits, parquet_check

HISTOGRAM_BINS = 20
TOP_VALUES = 10
MAX_PAGE_ROWS = 1000
_CSV_BATCH_ROWS = 64 * 1024


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


def table_statistics(df: pd.DataFrame) -> dict[str, Any]:
    """The row count and every column's statistics of a table."""
    roles = roles_of(df)
    return {
        "total_rows": len(df),
        "columns": [column_statistics(df[c], role=roles.get(str(c))) for c in df.columns],
    }


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


def table_page(
    folder: Path, *, offset: int, limit: int, sort: str | None, statistics: bool, limits: TableLimits,
) -> dict[str, Any]:
    """Rows `offset` to `offset + limit` of the table stored in `folder` (after sorting by
    `sort`, a column name, `-name` for descending) as JSON lists, under `rows`; with
    `statistics`, the whole table's (table_statistics) under `statistics`.

    Only the page (and, to sort, the sort column) is converted to pandas, unless the
    statistics are asked for."""
    if offset < 0 or not 1 <= limit <= MAX_PAGE_ROWS:
        raise PreviewError(f"offset must be at least 0 and limit between 1 and {MAX_PAGE_ROWS}")
    table = read_arrow_table(folder, limits)
    if sort:
        rows = table.take(pa.array(_sort_positions(table, sort)[offset:offset + limit], type=pa.int64()))
    else:
        rows = table.slice(offset, limit)
    page = rows.to_pandas()
    return {
        "rows": json.loads(page.to_json(orient="values", date_format="iso")) if len(page) else [],
        "statistics": table_statistics(table_frame(table)) if statistics else None,
    }


def stored_table_statistics(folder: Path, *, limits: TableLimits) -> dict[str, Any]:
    return table_statistics(read_table(folder, limits))


def class_curves(folder: Path, *, limits: TableLimits) -> dict[str, Any]:
    """One-vs-rest evaluation of every class of the multiclass scored table in `folder`
    (Score Model's output): each class against all the others, as Evaluate Model scores a
    two-class table (same metrics, same ROC and precision-recall curves). Evaluate Model
    records only a confusion matrix for multiclass tables; these are its curves."""
    df = read_table(folder, limits)
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


def table_csv_write(folder: Path, destination: Path, *, escape_formulas: bool, limits: TableLimits) -> int:
    """Write the table stored in `folder` to the file `destination` as CSV, a batch of rows
    at a time (a table of any length within the limits takes little memory); returns the
    rows written."""
    parquet_check(folder / TABLE_FILE, limits)
    parquet = pq.ParquetFile(folder / TABLE_FILE)
    batches = (batch.to_pandas() for batch in parquet.iter_batches(batch_size=_CSV_BATCH_ROWS))
    with destination.open("w", encoding="utf-8", newline="") as out:
        # A table with no rows still has its header line.
        return csv_write(batches if parquet.metadata.num_rows else [parquet.schema_arrow.empty_table().to_pandas()],
                         out, escape_formulas=escape_formulas)
