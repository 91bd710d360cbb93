"""User-facing table files: parsing what users supply (CSV, TSV, Parquet, JSON) with errors
that say where and limits checked as early as they can be, and writing CSV for them."""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from pathlib import Path
from typing import IO

import pandas as pd
import pyarrow.lib

from modules.sdk import ModuleError
from modules.sdk.table_limits import (
    TableLimits, TableTooLarge, columns_check, parquet_check, rows_allowed, shape_check,
)

FORMATS = ("auto", "csv", "tsv", "parquet", "json")
_LINE = re.compile(r" in line (\d+)")


def guess_format(filename: str) -> str:
    suffix = Path(filename).suffix.lower().lstrip(".")
    return {"txt": "csv", "pq": "parquet", "jsonl": "json", "ndjson": "json"}.get(suffix, suffix)


def read_table_file(
    source: str | Path | IO[bytes],
    *,
    fmt: str = "auto",
    filename: str = "",
    delimiter: str = "auto",
    has_header: bool = True,
    encoding: str = "utf-8",
    limits: TableLimits = TableLimits(),
) -> pd.DataFrame:
    """Read one table; raise ModuleError naming the line, byte or field at fault, and
    TableTooLarge (a ModuleError) for a table over `limits`, as soon as that is known."""
    if fmt == "auto":
        fmt = guess_format(filename or str(source if isinstance(source, (str, Path)) else ""))
        if fmt not in FORMATS:
            fmt = "csv"
    if fmt == "parquet":
        parquet_check(source, limits, what="the file")
        try:
            return pd.read_parquet(source)
        except MemoryError:  # the reader's own limit (pyarrow's is an ArrowException too), not a bad file
            raise
        except (pyarrow.lib.ArrowException, OSError) as exc:
            raise ModuleError(f"the file is not a readable Parquet file: {exc}", code="bad_file") from None
    raw = source.read() if hasattr(source, "read") else Path(source).read_bytes()
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ModuleError(
            f"the file is not valid {encoding} text (byte {exc.start}, line {line}); "
            "set the encoding param, e.g. latin-1",
            code="bad_encoding",
            param="encoding",
            details={"line": line, "byte": exc.start},
        ) from None
    except LookupError:
        raise ModuleError(f"unknown encoding {encoding!r}", code="invalid_param", param="encoding") from None
    if not text.strip():
        raise ModuleError("the file is empty", code="empty_table")
    if fmt == "json":
        df = _read_json(text)
        shape_check(len(df), df.shape[1], limits, what="the file")
        return df
    return _read_delimited(text, "\t" if fmt == "tsv" else delimiter, has_header, limits)


def _read_json(text: str) -> pd.DataFrame:
    try:
        stripped = text.lstrip()
        if stripped.startswith("["):
            return pd.read_json(io.StringIO(text), orient="records")
        return pd.read_json(io.StringIO(text), lines=True)
    except ValueError as exc:
        raise ModuleError(f"the file is not JSON records: {exc}", code="bad_file") from None


def _read_delimited(text: str, delimiter: str, has_header: bool, limits: TableLimits) -> pd.DataFrame:
    if delimiter == "auto":
        try:
            delimiter = csv.Sniffer().sniff(text[:20_000], delimiters=",\t;|").delimiter
        except csv.Error:
            # The sniffer gives up on ragged rows; the header line still shows the separator,
            # and with it the parser can name the bad line instead of reading one wide column.
            header = text.split("\n", 1)[0]
            delimiter = max(",\t;|", key=header.count)
    delimiter = {"\\t": "\t", "tab": "\t"}.get(delimiter, delimiter)
    # The first line tells the columns; with them, how many rows may be read at most.
    try:
        columns = len(next(csv.reader([text.partition("\n")[0]], delimiter=delimiter), []))
    except csv.Error:
        columns = 1  # a line the csv module cannot split: pandas names the problem below
    columns_check(columns, limits, what="the file")
    most_rows = rows_allowed(columns, limits)
    try:
        df = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=0 if has_header else None,
            skipinitialspace=True,
            na_values=["?"],
            nrows=most_rows + 1,
        )
    except pd.errors.ParserError as exc:
        match = _LINE.search(str(exc))
        line = _file_line(text, delimiter, int(match.group(1))) if match else None
        # pandas' own line number counts records, which may not be the file line said above.
        detail = _LINE.sub("", str(exc).split("C error: ")[-1].strip())
        raise ModuleError(
            f"the file does not parse as a table{f' at line {line}' if line else ''}: {detail}",
            code="bad_csv",
            details={"line": line} if line else {},
        ) from None
    except pd.errors.EmptyDataError:
        raise ModuleError("the file has no columns", code="empty_table") from None
    if len(df) > most_rows:
        raise TableTooLarge(
            f"the file has more than {most_rows:,} rows of {columns:,} columns; "
            f"the limit is {limits.max_cells:,} cells"
        )
    shape_check(len(df), df.shape[1], limits, what="the file")
    if not has_header:
        df.columns = [f"Col{i + 1}" for i in range(df.shape[1])]
    return df


def _file_line(text: str, delimiter: str, record: int) -> int:
    """The file line where record number `record` (what pandas calls its line) ends.

    They differ once a quoted field above spans several lines.
    """
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True)
    try:
        for number, _ in enumerate(reader, start=1):
            if number == record:
                return reader.line_num
    except csv.Error:
        pass  # a file the csv module reads differently: pandas' count is the best we have
    return record


# What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _formula_escaped(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def formulas_escape(df: pd.DataFrame) -> pd.DataFrame:
    """`df` with every text cell (and column name) that a spreadsheet would run as a
    formula made plain text by a leading `'`. Numbers stay numbers: -1.5 is not text."""
    escaped = {}
    for name, column in df.items():
        if isinstance(column.dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(column) \
                or pd.api.types.is_string_dtype(column):
            column = column.astype(object).map(_formula_escaped, na_action="ignore")
        escaped[_formula_escaped(str(name))] = column
    return pd.DataFrame(escaped, index=df.index)


def csv_write(frames: Iterable[pd.DataFrame], out: IO[str], *, escape_formulas: bool = True) -> int:
    """Write the parts of one table as CSV (UTF-8, comma-separated, a header line, no index
    column, ISO dates, lines ending in CRLF as RFC 4180 has them), escaping formulas unless
    told not to; returns the rows written."""
    rows = 0
    for number, frame in enumerate(frames):
        # CRLF line ends make the writer quote a cell holding a carriage return: with bare
        # newlines it would not, and a spreadsheet would start a new row (and read its
        # first cell, `=…`, as a formula) in the middle of the cell.
        (formulas_escape(frame) if escape_formulas else frame).to_csv(
            out, index=False, header=number == 0, lineterminator="\r\n",
        )
        rows += len(frame)
    return rows
