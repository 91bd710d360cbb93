"""Files that cost far more to read than to store: the tables the limits are there for."""
from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

BOMB_ROWS = 200_000_000
WIDE_COLUMNS = 100_000


def bomb_parquet(path: Path) -> Path:
    """Under 1 MB on disk, 200 million rows declared: one number repeated, which Parquet's
    run-length encoding stores in a few bytes per row group. Reading it takes 1.6 GB."""
    block = pa.table({"x": pa.array([7] * 1_000_000, pa.int64())})
    with pq.ParquetWriter(path, block.schema, compression="zstd") as writer:
        for _ in range(BOMB_ROWS // len(block)):
            writer.write_table(block, row_group_size=len(block))
    return path


def wide_parquet(path: Path, columns: int = WIDE_COLUMNS) -> Path:
    """One row of `columns` columns: its footer alone is tens of megabytes."""
    one = pa.array([1], pa.int64())
    pq.write_table(pa.Table.from_arrays([one] * columns, names=[f"c{i}" for i in range(columns)]), path)
    return path


def wide_csv(path: Path, columns: int = WIDE_COLUMNS) -> Path:
    path.write_text(",".join(f"c{i}" for i in range(columns)) + "\n" + ",".join("1" for _ in range(columns)) + "\n")
    return path


def repeated_parquet(path: Path, rows: int, columns: int = 2) -> Path:
    """`rows` rows of `columns` integer columns, each a repeated number: a small file that
    takes rows x columns x 8 bytes of memory once read."""
    block_rows = min(rows, 1_000_000)
    block = pa.table({f"c{i}": pa.array([i] * block_rows, pa.int64()) for i in range(columns)})
    with pq.ParquetWriter(path, block.schema, compression="zstd") as writer:
        written = 0
        while written < rows:
            part = block.slice(0, min(block_rows, rows - written))
            writer.write_table(part, row_group_size=len(part))
            written += len(part)
    return path
