"""Preview benchmark: what the outputs panel costs on a large table, against plain pandas.

    python bench/preview_bench.py [--rows 1000000] [--repeat 3]

Writes one table (10 float, 5 categorical-like text and 3 high-cardinality text columns) the
way a step stores it, then prints a table of wall times (median of N):
- the first page, statistics not yet computed (what the first click on an output costs);
- another page, and a page sorted by a numeric and by a text column (statistics known);
against the plain pandas script a user would write for the same view: read the Parquet
file, describe every column (the same statistics: counts, unique, top values, histograms),
sort, slice.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "designer.settings")

import django  # noqa: E402 (needs ROOT on the path)

django.setup()

from django.core.cache import caches  # noqa: E402

from designer.engine.table_views import column_statistics  # noqa: E402
from designer.runs.outputs import table_preview  # noqa: E402
from modules.sdk.artifacts import TABLE_FILE, write_table  # noqa: E402


def sample_table(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({f"x{i}": rng.normal(size=rows) for i in range(10)})
    for i in range(5):
        df[f"c{i}"] = rng.choice(["north", "south", "east", "west"], size=rows)
    for i in range(3):
        df[f"id{i}"] = pd.Series(rng.integers(0, rows, size=rows)).map("id{}".format)
    return df


def median_time(fn, repeat: int, before=None) -> float:
    times = []
    for _ in range(repeat):
        if before:
            before()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def plain(path: Path, sort: str | None, offset: int) -> None:
    """What a script would do for the same view: every column described, then the page."""
    df = pd.read_parquet(path)
    [column_statistics(df[c]) for c in df.columns]
    if sort:
        df = df.sort_values(sort.lstrip("-"), ascending=not sort.startswith("-"), kind="stable", na_position="last")
    df.iloc[offset:offset + 100].to_json(orient="values")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="atelier-preview-bench-"))
    write_table(sample_table(args.rows), folder)
    path = folder / TABLE_FILE
    size_mb = path.stat().st_size / 1e6
    forget = caches["previews"].clear

    cases = [
        ("first page, statistics computed", dict(offset=0), forget),
        ("another page", dict(offset=args.rows // 2), None),
        ("page sorted by a number", dict(offset=100, sort="-x3"), None),
        ("page sorted by text", dict(offset=100, sort="id1"), None),
    ]
    table_preview(folder=folder)  # imports and file cache warm, as in a running server
    print(f"\n{args.rows:,} rows x 18 columns, {size_mb:.0f} MB of Parquet; median of {args.repeat}")
    width = max(len(name) for name, _, _ in cases)
    print(f"\n{'view':<{width}}  {'Atelier s':>9}  {'pandas s':>8}  {'ratio':>6}")
    for name, query, before in cases:
        ours = median_time(lambda: table_preview(folder=folder, **query), args.repeat, before)
        theirs = median_time(lambda: plain(path, query.get("sort"), query["offset"]), args.repeat)
        print(f"{name:<{width}}  {ours:>9.3f}  {theirs:>8.3f}  {ours / theirs:>6.2f}")


if __name__ == "__main__":
    main()
