"""How large a table may be, checked before it is read.

A Parquet file says in its footer how many rows and columns it holds and how large its
data is uncompressed. Those are checked before any data is read: a file of under 1 MB
can declare 200 million rows, and reading it would take gigabytes. The footer itself is
bounded too, by its length (the file's last bytes say it) before it is parsed: a table
of 100,000 columns has a footer of tens of megabytes that costs hundreds to parse.

Text tables (CSV, JSON) are bounded by the same numbers as they are parsed.

The limits are the operator's (settings, passed to steps in their resources); the
defaults here hold for the CLI and for steps run without them.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

import pyarrow.parquet as pq

from .errors import ModuleError

DEFAULT_MAX_COLUMNS = 10_000
DEFAULT_MAX_CELLS = 100_000_000
DEFAULT_MAX_BYTES = 4 << 30
RESOURCE_KEY = "table_limits"
# A footer describes each column in each row group in some hundreds of bytes; this much
# per column is room for the row groups of any table within the cell limit.
_FOOTER_BYTES_PER_COLUMN = 1024
_MIN_FOOTER_BYTES = 4 << 20
_PARQUET_TAIL = 8  # footer length (4 bytes, little-endian) + b"PAR1"


@dataclass(frozen=True)
class TableLimits:
    max_columns: int = DEFAULT_MAX_COLUMNS
    max_cells: int = DEFAULT_MAX_CELLS  # rows x columns
    max_bytes: int = DEFAULT_MAX_BYTES  # a Parquet file's declared uncompressed size

    @classmethod
    def from_resources(cls, resources: Mapping[str, Any]) -> TableLimits:
        """The limits a host passed to a step (ctx.resources), or the defaults."""
        given = resources.get(RESOURCE_KEY) or {}
        return cls(**{k: int(v) for k, v in given.items() if k in cls.__dataclass_fields__})

    def to_json(self) -> dict[str, int]:
        return asdict(self)

    @property
    def max_footer_bytes(self) -> int:
        return max(_MIN_FOOTER_BYTES, self.max_columns * _FOOTER_BYTES_PER_COLUMN)


class TableTooLarge(ModuleError):
    """A table over a limit, refused before it was read (or as soon as that was known)."""

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("code", "table_too_large")
        super().__init__(message, **kwargs)


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _size(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.1f} {unit}"
    return f"{n} bytes"


def columns_check(columns: int, limits: TableLimits, *, what: str = "the table") -> None:
    if columns > limits.max_columns:
        raise TableTooLarge(
            f"{what} has {_count(columns, 'column')}; the limit is {_count(limits.max_columns, 'column')}"
        )


def shape_check(rows: int, columns: int, limits: TableLimits, *, what: str = "the table") -> None:
    """Refuse a table of `rows` x `columns` over the limits."""
    columns_check(columns, limits, what=what)
    if rows * columns > limits.max_cells:
        raise TableTooLarge(
            f"{what} has {_count(rows, 'row')} x {_count(columns, 'column')} = {_count(rows * columns, 'cell')}; "
            f"the limit is {_count(limits.max_cells, 'cell')}"
        )


def rows_allowed(columns: int, limits: TableLimits) -> int:
    """The most rows a table of `columns` columns may have."""
    return limits.max_cells // max(columns, 1)


def parquet_check(
    source: str | Path | IO[bytes], limits: TableLimits, *, what: str = "the table"
) -> pq.FileMetaData:
    """The footer of the Parquet file `source`, once its size, shape and declared
    uncompressed size are within `limits`; raises TableTooLarge otherwise (and
    ModuleError for a file that is not Parquet)."""
    footer = _footer_length(source)
    if footer > limits.max_footer_bytes:
        raise TableTooLarge(
            f"{what} is a Parquet file whose metadata alone is {_size(footer)}, more than a table within the limit "
            f"of {_count(limits.max_columns, 'column')} needs ({_size(limits.max_footer_bytes)})"
        )
    try:
        metadata = pq.ParquetFile(source).metadata
    except (OSError, ValueError) as exc:  # pyarrow's errors are both, as ArrowException subclasses
        raise ModuleError(f"{what} is not a readable Parquet file: {exc}", code="bad_file") from None
    shape_check(metadata.num_rows, metadata.num_columns, limits, what=what)
    declared = sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups))
    if declared > limits.max_bytes:
        raise TableTooLarge(
            f"{what} holds {_size(declared)} of data uncompressed; the limit is {_size(limits.max_bytes)}"
        )
    return metadata


def _footer_length(source: str | Path | IO[bytes]) -> int:
    if isinstance(source, (str, Path)):
        with open(source, "rb") as handle:
            return _footer_length(handle)
    start = source.tell()
    try:
        size = source.seek(0, os.SEEK_END)
        if size < 2 * _PARQUET_TAIL:
            raise ModuleError("the file is too short to be Parquet", code="bad_file")
        source.seek(size - _PARQUET_TAIL)
        tail = source.read(_PARQUET_TAIL)
    finally:
        source.seek(start)
    if tail[4:] != b"PAR1":
        raise ModuleError("the file is not Parquet: it does not end as Parquet files do", code="bad_file")
    return int.from_bytes(tail[:4], "little")
