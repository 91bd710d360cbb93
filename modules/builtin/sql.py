"""Apply SQL Transformation: a query over the input tables, on in-process DuckDB."""
from __future__ import annotations

import re
from typing import Any

import duckdb
import pandas as pd

from modules.sdk import Code, Input, Module, ModuleError, Output, ParamValues, PortType, StepContext, register
from modules.sdk.schema import roles_of, set_roles

TABLES = ("t1", "t2", "t3")
# What a query may use (the host passes its own in the step's resources): DuckDB's memory,
# in MB, with no spilling to disk, and its threads.
RESOURCE_KEY = "sql_limits"
DEFAULT_MEMORY_MB = 2048
DEFAULT_THREADS = 2
_MISSING_TABLE = re.compile(r'Table with name "?(\w+)"? does not exist', re.IGNORECASE)

# The designer runs these queries on SQLite. Where DuckDB would give other results without
# a word, the connection keeps SQLite's: integer division (5/2 is 2), NULL for a division
# by zero, and SQLite's date functions DuckDB lacks, as macros over DuckDB's own.
_SQLITE_SETTINGS = ("SET integer_division = true", "SET error_on_division_by_zero = false")
_SQLITE_DATE_MACROS = (
    "CREATE MACRO julianday(x) AS epoch(CAST(x AS TIMESTAMP)) / 86400.0 + 2440587.5",
    "CREATE MACRO unixepoch(x) AS CAST(epoch(CAST(x AS TIMESTAMP)) AS BIGINT)",
    "CREATE MACRO datetime(x) AS strftime(CAST(x AS TIMESTAMP), '%Y-%m-%d %H:%M:%S')",
)
# What a failing query's SQLite date function is in DuckDB (modifiers such as '+1 day' and
# 'now' are SQLite's own; `time` is a type name in DuckDB).
SQLITE_DATE_EQUIVALENTS = {
    "date": "CAST(x AS DATE), with modifiers as intervals: CAST(x AS DATE) + INTERVAL 1 DAY; "
            "date('now') is current_date",
    "time": "CAST(x AS TIME), or strftime(CAST(x AS TIMESTAMP), '%H:%M:%S')",
    "datetime": "CAST(x AS TIMESTAMP) + INTERVAL 1 HOUR; datetime('now') is current_timestamp",
    "julianday": "epoch(CAST(x AS TIMESTAMP)) / 86400.0 + 2440587.5 (julianday(x) takes one argument)",
    "unixepoch": "epoch(CAST(x AS TIMESTAMP)) (unixepoch(x) takes one argument)",
    "strftime": "strftime(CAST(x AS TIMESTAMP), format): a text date needs the cast",
}
_DATE_CALL = re.compile(r"\b(" + "|".join(SQLITE_DATE_EQUIVALENTS) + r")\s*\(", re.IGNORECASE)
# Inside [...]: a list literal ([1, 2], ['a']) or a subscript stays DuckDB's; anything else
# is a SQLite bracketed name.
_LAST_WORD = re.compile(r"(\w+)$")
_KEYWORDS_BEFORE_NAMES = frozenset(
    "all and as between by case distinct else from group having in is join like not on or order over "
    "partition select set table then union update using values when where with".split()
)
_NOT_A_NAME = re.compile(r"^\s*$|[,'\"\[]|^\s*[-+]?\d")


@register
class ApplySqlTransformation(Module):
    """Transform up to three tables with a SQL query."""

    id = "apply_sql_transformation"
    name = "Apply SQL Transformation"
    keywords = ("sql", "query", "filter", "where", "group by", "aggregate", "select")
    category = "Data Transformation"
    help = (
        "Runs a SQL query (DuckDB dialect, close to PostgreSQL) over the connected tables, "
        "named `t1`, `t2` and `t3` after the input ports. Several statements separated by `;` "
        "may build temporary tables first; the final select gives the output.\n\n"
        "The designer ran these queries on SQLite; where a query would silently give other "
        "results, SQLite's behaviour is kept: `/` of two integers is an integer division "
        "(`5/2` is 2; write `5/2.0` or `5::DOUBLE/2` for 2.5), a division by zero is NULL, "
        "and `[bracketed names]` are column or table names (`[1, 2]`, `['a']` and subscripts "
        "such as `x[1]` stay lists). SQLite's `date(x)`, `datetime(x)`, `julianday(x)`, "
        "`unixepoch(x)` and `strftime(format, x)` work on one date argument; their modifiers "
        "('+1 day', 'now') and `time()` are refused naming the DuckDB equivalent.\n\n"
        "The query sees the input tables only: reading or writing files and URLs, attaching "
        "databases and installing extensions are refused. It may use a bounded amount of memory "
        "(set by the operator, 2 GB unless they say otherwise): a query needing more fails "
        "and says so.\n\n"
        "Output columns that keep an input column's name keep its role (label, feature, score), "
        "taken from the first table that has that column."
    )

    # Version 2 keeps SQLite's semantics (integer division, [bracketed names], date
    # functions); version 1 gave DuckDB's (5/2 was 2.5).
    version = 2

    class Inputs:
        t1 = Input(type=PortType.DATAFRAME, help="The table named t1 in the query")
        t2 = Input(type=PortType.DATAFRAME, optional=True, help="The table named t2 in the query")
        t3 = Input(type=PortType.DATAFRAME, optional=True, help="The table named t3 in the query")

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME, help="The query's result")

    class Params:
        query = Code(language="sql", default="select * from t1", help="SQL over the tables t1, t2 and t3")

    def run(
        self,
        ctx: StepContext,
        params: ParamValues,
        t1: pd.DataFrame,
        t2: pd.DataFrame | None = None,
        t3: pd.DataFrame | None = None,
    ) -> dict[str, Any]:
        tables = {name: df for name, df in zip(TABLES, (t1, t2, t3), strict=True) if df is not None}
        limits = {"memory_mb": DEFAULT_MEMORY_MB, "threads": DEFAULT_THREADS, **(ctx.resources.get(RESOURCE_KEY) or {})}
        memory_mb, threads = int(limits["memory_mb"]), int(limits["threads"])
        with _sandboxed_connection(tables, memory_mb=memory_mb, threads=threads) as con:
            try:
                df = con.sql(sqlite_brackets_as_names(params.query)).df()
            except duckdb.OutOfMemoryException:
                raise ModuleError(
                    f"the query needs more memory than the {memory_mb:,} MB a SQL step may use: "
                    "select fewer rows or columns, or aggregate earlier",
                    code="memory_limit_exceeded", param="query",
                ) from None
            except duckdb.Error as exc:
                raise _query_error(exc, connected=set(tables), query=params.query) from None
        roles: dict[str, str] = {}
        for table in reversed(list(tables.values())):  # earlier tables win
            roles.update(roles_of(table))
        ctx.log(f"the query returned {len(df)} rows x {df.shape[1]} columns")
        return {"dataset": set_roles(df, roles)}


def _sandboxed_connection(
    tables: dict[str, pd.DataFrame], *, memory_mb: int, threads: int
) -> duckdb.DuckDBPyConnection:
    """An in-memory database holding the input tables and nothing else it can reach, using
    at most `memory_mb` of memory (never spilling to disk) and `threads` threads.

    Registering happens first, then external access (files, URLs, extensions, attaching
    databases) and Python variable lookup are turned off, and the configuration is locked
    so the query cannot turn them back on, nor raise its limits.
    """
    con = duckdb.connect(
        ":memory:", config={"memory_limit": f"{memory_mb}MB", "threads": threads, "temp_directory": ""},
    )
    for name, df in tables.items():
        con.register(name, df)
    for statement in (*_SQLITE_SETTINGS, *_SQLITE_DATE_MACROS):
        con.execute(statement)
    con.execute("SET enable_external_access = false")
    con.execute("SET python_enable_replacements = false")
    con.execute("SET lock_configuration = true")
    return con


def sqlite_brackets_as_names(query: str) -> str:
    """`query` with SQLite's `[bracketed names]` written as DuckDB's `"quoted names"`.

    Strings, quoted names and comments are copied as they are; a `[` right after a name,
    `)` or `]` is a subscript, and brackets holding a list are a list literal: both stay.
    """
    out: list[str] = []
    i, n = 0, len(query)
    while i < n:
        char = query[i]
        if char in "'\"":
            end = i + 1
            while end < n:
                if query[end] == char:
                    if end + 1 < n and query[end + 1] == char:  # a doubled quote inside
                        end += 2
                        continue
                    break
                end += 1
            out.append(query[i:end + 1])
            i = end + 1
        elif query.startswith("--", i):
            end = query.find("\n", i)
            end = n if end < 0 else end
            out.append(query[i:end])
            i = end
        elif query.startswith("/*", i):
            end = query.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(query[i:end])
            i = end
        elif char == "[":
            end = query.find("]", i + 1)
            inside = query[i + 1:end] if end > 0 else ""
            # The last chunks suffice to tell what precedes (joining all would be quadratic).
            if end > 0 and not _is_subscript("".join(out[-64:])) and not _NOT_A_NAME.search(inside):
                out.append('"' + inside.replace('"', '""') + '"')
                i = end + 1
            else:
                out.append(char)
                i += 1
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _is_subscript(before: str) -> bool:
    """Whether a `[` after `before` indexes what precedes it (`x[1]`, `f(y)[2]`)."""
    text = before.rstrip()
    word = _LAST_WORD.search(text)
    if word:
        return word.group(1).lower() not in _KEYWORDS_BEFORE_NAMES
    return text[-1:] in (")", "]", '"')


def _query_error(exc: duckdb.Error, *, connected: set[str], query: str) -> ModuleError:
    message = str(exc).strip()
    missing = _MISSING_TABLE.search(message)
    if missing and missing.group(1).lower() in TABLES and missing.group(1).lower() not in connected:
        table = missing.group(1).lower()
        return ModuleError(
            f"the query uses table {table}, but input {table} is not connected",
            code="missing_input",
            param="query",
            port=table,
        )
    if isinstance(exc, duckdb.PermissionException):
        message += " (queries can only read the input tables t1, t2 and t3)"
    used = sorted({match.group(1).lower() for match in _DATE_CALL.finditer(query)})
    if used:
        message += "; SQLite date functions are written in DuckDB as: " + "; ".join(
            f"{name}(...) -> {SQLITE_DATE_EQUIVALENTS[name]}" for name in used
        )
        return ModuleError(
            f"the query failed: {message}", code="sql_error", param="query", details={"sqlite_functions": used}
        )
    return ModuleError(f"the query failed: {message}", code="sql_error", param="query")
