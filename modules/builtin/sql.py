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


@register
class ApplySqlTransformation(Module):
    """Transform up to three tables with a SQL query."""

    id = "apply_sql_transformation"
    name = "Apply SQL Transformation"
    category = "Data Transformation"
    help = (
        "Runs a SQL query (DuckDB dialect, close to PostgreSQL) over the connected tables, "
        "named `t1`, `t2` and `t3` after the input ports. Several statements separated by `;` "
        "may build temporary tables first; the final select gives the output.\n\n"
        "The query sees the input tables only: reading or writing files and URLs, attaching "
        "databases and installing extensions are refused. It may use a bounded amount of memory "
        "(set by the operator, 2 GB unless they say otherwise): a query needing more fails "
        "and says so.\n\n"
        "Output columns that keep an input column's name keep its role (label, feature, score), "
        "taken from the first table that has that column."
    )

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
                df = con.sql(params.query).df()
            except duckdb.OutOfMemoryException:
                raise ModuleError(
                    f"the query needs more memory than the {memory_mb:,} MB a SQL step may use: "
                    "select fewer rows or columns, or aggregate earlier",
                    code="memory_limit_exceeded", param="query",
                ) from None
            except duckdb.Error as exc:
                raise _query_error(exc, connected=set(tables)) from None
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
    con.execute("SET enable_external_access = false")
    con.execute("SET python_enable_replacements = false")
    con.execute("SET lock_configuration = true")
    return con


def _query_error(exc: duckdb.Error, *, connected: set[str]) -> ModuleError:
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
    return ModuleError(f"the query failed: {message}", code="sql_error", param="query")
