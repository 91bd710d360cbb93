"""Tables entering the dataset catalog: uploaded files and Export Data's tables.

Both are untrusted and may be large, so the server runs this in its table workers
(table_workers.py), within a memory limit, and checks the table limits before reading
anything it can check first (a Parquet footer, a CSV header line).

Uploads are never trusted: the format is what the content is (Parquet's magic bytes,
JSON's opening bracket, otherwise delimited text), not what the file name or content type
claim; a file whose name claims another format is refused, and so is anything that does
not parse into a non-empty table. Every refusal is a ModuleError naming the problem, and
the line or byte where the parser says so (`param` "encoding" when the encoding is at
fault).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from modules.builtin.tabular_io import guess_format, read_table_file
from modules.sdk import ModuleError
from modules.sdk.artifacts import EXPORT_FILE, TABLE_FILE, table_frame, write_table
from modules.sdk.schema import schema_of
from modules.sdk.table_limits import TableLimits, parquet_check

PARQUET_MAGIC = b"PAR1"
SNIFF_BYTES = 64 * 1024
FORMATS = ("csv", "tsv", "parquet", "json")
# What a file name's extension claims, by content family (CSV and TSV are both delimited text).
_FAMILY = {"csv": "delimited", "tsv": "delimited", "txt": "delimited", "parquet": "parquet", "json": "json"}


def sniff_format(head: bytes) -> str:
    """The format the content is (one of FORMATS), from its first bytes."""
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    if b"\x00" in head:
        raise ModuleError(
            "the file is binary but not Parquet: upload CSV, TSV, JSON or Parquet", code="unsupported_format"
        )
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] in (b"[", b"{"):
        return "json"
    first_line = text.split(b"\n", 1)[0]
    return "tsv" if first_line.count(b"\t") > first_line.count(b",") else "csv"


def upload_store(
    source: Path, *, filename: str, encoding: str, delimiter: str, has_header: bool, limits: TableLimits,
    destination: Path,
) -> dict[str, Any]:
    """Parse the uploaded file `source` (named `filename` by its sender) and store it as a
    table in the folder `destination`; returns the table's `format`, `rows` and `schema`."""
    with source.open("rb") as file:
        fmt = sniff_format(file.read(SNIFF_BYTES))
        claimed = _FAMILY.get(guess_format(filename))
        if claimed is not None and claimed != _FAMILY[fmt]:
            raise ModuleError(
                f"the file's name says {guess_format(filename).upper()} but its content is {fmt.upper()}",
                code="format_mismatch",
            )
        file.seek(0)
        try:
            df = read_table_file(
                file, fmt=fmt, encoding=encoding, has_header=has_header, limits=limits,
                delimiter="\t" if fmt == "tsv" and delimiter == "auto" else delimiter,
            )
        except MemoryError:  # the worker's limit (pyarrow's is an ArrowException too), not a bad file
            raise
        except (ValueError, TypeError, OverflowError, pa.ArrowException) as exc:
            # pandas and pyarrow raise these on files crafted or broken in ways they do not name
            raise ModuleError(f"the file is not a readable {fmt.upper()} table: {exc}", code="bad_file") from None
    if df.shape[1] == 0 or len(df) == 0:
        raise ModuleError("the table is empty: it needs at least one column and one row", code="empty_table")
    try:
        meta = write_table(df, destination, limits)
    except ModuleError as exc:
        raise ModuleError(exc.message, code="bad_table") from None
    except MemoryError:
        raise
    except (pa.ArrowException, ValueError, TypeError) as exc:
        # e.g. a JSON column mixing numbers and objects, which Parquet cannot hold
        raise ModuleError(f"the table cannot be stored as Parquet: {exc}", code="bad_table") from None
    return {"format": fmt, "rows": meta["rows"], "schema": meta["schema"]}


def export_describe(folder: Path, *, limits: TableLimits) -> dict[str, Any]:
    """What Export Data wrote into `folder` (a step's output, so untrusted): the table's
    `rows` and `schema`, read from its footer and schema alone, and how it asked to be
    registered: `format` (csv or parquet) and `escape_formulas` for its CSV downloads."""
    metadata = parquet_check(folder / TABLE_FILE, limits, what="the exported table")
    schema = pq.read_schema(folder / TABLE_FILE)
    options = export_options(folder)
    return {
        "rows": metadata.num_rows, "schema": schema_of(table_frame(schema.empty_table())).to_json(), **options,
    }


def export_options(folder: Path) -> dict[str, Any]:
    """How an exported table asked to be registered (EXPORT_FILE beside it); anything
    missing or malformed there means the defaults: Parquet, formulas escaped."""
    try:
        asked = json.loads((folder / EXPORT_FILE).read_text())
    except (OSError, ValueError):
        asked = {}
    if not isinstance(asked, dict):
        asked = {}
    return {
        "format": asked.get("format") if asked.get("format") in ("csv", "parquet") else "parquet",
        "escape_formulas": asked.get("escape_formulas") is not False,
    }
