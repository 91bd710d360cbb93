"""Apply SQL Transformation: results match pandas; the query sees the input tables only."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from modules.sdk import ModuleError, roles_of, set_roles
from modules.sdk.conformance import example_table
from modules.sdk.testing import call_module, run_through_runner

MODULE = "apply_sql_transformation"


def query(sql: str, **tables: pd.DataFrame) -> pd.DataFrame:
    return call_module(MODULE, {"query": sql}, **tables).outputs["dataset"]


def sql_error(sql: str, **tables: pd.DataFrame) -> ModuleError:
    with pytest.raises(ModuleError) as caught:
        query(sql, **tables)
    assert caught.value.param == "query"
    return caught.value


def test_the_default_query_returns_t1() -> None:
    df = example_table()
    pd.testing.assert_frame_equal(call_module(MODULE, {}, t1=df).outputs["dataset"], df)


def test_filter_and_aggregate_match_pandas() -> None:
    df = example_table()
    got = query(
        "select color, count(*) as n, avg(target) as mean_target from t1 where x2 >= 3 group by color order by color",
        t1=df,
    )
    expected = (
        df[df["x2"] >= 3].groupby("color").agg(n=("target", "size"), mean_target=("target", "mean")).reset_index()
    )
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_a_join_of_two_inputs_matches_pandas() -> None:
    left = example_table()
    right = pd.DataFrame({"color": ["red", "green"], "price": [1.5, 2.5]})
    got = query("select t1.x1, t1.color, t2.price from t1 join t2 using (color) order by t1.x1", t1=left, t2=right)
    expected = left.merge(right, on="color")[["x1", "color", "price"]].sort_values("x1", ignore_index=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_three_inputs_and_several_statements() -> None:
    a, b, c = (pd.DataFrame({"v": [i]}) for i in (1, 2, 3))
    got = query(
        "create temp table u as select * from t1 union all select * from t2;"
        " select * from u union all select * from t3 order by v",
        t1=a,
        t2=b,
        t3=c,
    )
    assert got["v"].tolist() == [1, 2, 3]


def test_roles_of_kept_column_names_survive() -> None:
    df = set_roles(example_table(), {"target": "label", "x1": "feature"})
    got = query("select x2, target from t1 where flag", t1=df)
    assert roles_of(got) == {"target": "label"}


@pytest.mark.parametrize("table", ["t2", "t3"])
def test_an_unconnected_table_is_named(table: str) -> None:
    error = sql_error(f"select * from t1 join {table} using (x1)", t1=example_table())
    assert error.message == f"the query uses table {table}, but input {table} is not connected"
    assert (error.code, error.port) == ("missing_input", table)


@pytest.mark.parametrize(
    "sql",
    [
        "select * from read_csv('/etc/passwd')",
        "select * from read_text('/etc/hostname')",
        "select * from glob('/*')",
        "copy t1 to '{tmp}/leak.csv'",
        "attach '{tmp}/other.duckdb' as other",
        "install httpfs",
        "select * from read_parquet('https://example.com/data.parquet')",
    ],
)
def test_the_query_cannot_reach_files_urls_or_extensions(sql: str, tmp_path: Path) -> None:
    error = sql_error(sql.format(tmp=tmp_path), t1=example_table())
    assert error.code == "sql_error"
    assert "disabled" in error.message and "only read the input tables" in error.message
    assert list(tmp_path.iterdir()) == []


def test_a_quoted_path_is_not_a_table() -> None:
    error = sql_error("select * from '/etc/passwd'", t1=example_table())
    assert "Table with name /etc/passwd does not exist" in error.message


def test_the_sandbox_cannot_be_switched_off() -> None:
    error = sql_error("set enable_external_access = true; select * from read_csv('/etc/passwd')", t1=example_table())
    assert "the configuration has been locked" in error.message


def test_python_variables_are_not_tables() -> None:
    # DuckDB would otherwise find DataFrames in the callers' variables by name.
    secret = pd.DataFrame({"password": ["hunter2"]})
    error = sql_error("select * from secret", t1=example_table())
    assert "secret does not exist" in error.message
    assert not secret.empty


def test_a_syntax_error_says_where() -> None:
    error = sql_error("select * from t1 wher x1 > 0", t1=example_table())
    assert error.code == "sql_error"
    assert error.message.startswith("the query failed: Parser Error: syntax error")
    assert "LINE 1:" in error.message


def test_an_unknown_column_is_named() -> None:
    error = sql_error("select price from t1", t1=example_table())
    assert "price" in error.message


def test_a_failure_through_the_runner_is_a_user_error(tmp_path: Path) -> None:
    manifest, _ = run_through_runner(MODULE, {"query": "select * from t2"}, tmp_path, t1=example_table())
    assert manifest["status"] == "failed"
    assert manifest["error"] == {
        "code": "missing_input",
        "message": "the query uses table t2, but input t2 is not connected",
        "param": "query",
        "port": "t2",
        "details": {},
    }


# Memory and threads


def limited(memory_mb: int, threads: int = 1) -> dict[str, object]:
    return {"sql_limits": {"memory_mb": memory_mb, "threads": threads}}


def test_a_query_needing_more_memory_than_the_step_may_use_fails_saying_so() -> None:
    sorting = "select i, random() as r from range(20000000) t(i) order by r"
    with pytest.raises(ModuleError) as caught:
        call_module(MODULE, {"query": sorting}, resources=limited(64), t1=example_table())
    assert caught.value.code == "memory_limit_exceeded" and caught.value.param == "query"
    assert caught.value.message.startswith("the query needs more memory than the 64 MB a SQL step may use")


def test_the_limits_hold_and_the_query_cannot_lift_them() -> None:
    got = call_module(
        MODULE, {"query": "select current_setting('memory_limit') as m, current_setting('threads') as t"},
        resources=limited(100, threads=1), t1=example_table(),
    ).outputs["dataset"]
    assert got.to_dict("records") == [{"m": "95.3 MiB", "t": 1}]  # DuckDB's MB are 10^6 bytes
    error = sql_error("set memory_limit = '10GB'; select 1", t1=example_table())
    assert "locked" in error.message


def test_an_operator_limit_reaches_the_step_through_the_runner(tmp_path: Path) -> None:
    manifest, _ = run_through_runner(
        MODULE, {"query": "select i from range(20000000) t(i) order by random()"}, tmp_path,
        resources=limited(64), t1=example_table(),
    )
    assert manifest["status"] == "failed" and manifest["error"]["code"] == "memory_limit_exceeded"


# --- the designer's SQLite semantics, checked against SQLite itself --------------------------


def rows(df: pd.DataFrame) -> list[tuple]:
    """The table's rows as Python values, a missing value as None (as sqlite3 gives it)."""
    return [tuple(None if pd.isna(v) else v for v in row) for row in df.astype(object).itertuples(index=False, name=None)]


def sqlite_rows(sql: str, **tables: pd.DataFrame) -> list[tuple]:
    import sqlite3

    con = sqlite3.connect(":memory:")
    for name, df in tables.items():
        df.to_sql(name, con, index=False)
    return [tuple(row) for row in con.execute(sql).fetchall()]


def test_integer_division_and_division_by_zero_are_sqlites() -> None:
    t1 = pd.DataFrame({"a": [5, -5, 7, 1], "b": [2, 2, 0, 4]})
    sql = "select a / b as q, a / 2.0 as f, a % 3 as m from t1"
    out = query(sql, t1=t1)
    assert rows(out) == sqlite_rows(sql, t1=t1)
    assert rows(out)[:3] == [(2, 2.5, 2), (-2, -2.5, -2), (None, 3.5, 1)]


def test_an_average_written_as_sum_over_count_is_sqlites() -> None:
    t1 = pd.DataFrame({"g": ["x", "x", "y"], "v": [1, 2, 4]})
    sql = "select g, sum(v) / count(*) as mean from t1 group by g order by g"
    assert rows(query(sql, t1=t1)) == sqlite_rows(sql, t1=t1) == [("x", 1), ("y", 4)]


def test_bracketed_names_are_names_and_lists_stay_lists() -> None:
    t1 = pd.DataFrame({"unit price": [2.5, 4.0], "qty": [2, 3]})
    out = query("select [unit price] * [qty] as [total], [1, 2] as pair, [t1].[qty] from [t1] -- [not a name]", t1=t1)
    assert out["total"].tolist() == [5.0, 12.0]
    assert [list(v) for v in out["pair"]] == [[1, 2], [1, 2]]
    assert out["qty"].tolist() == [2, 3]
    assert sqlite_rows("select [unit price] * [qty] from [t1]", t1=t1) == [(5.0,), (12.0,)]


def test_brackets_in_strings_and_quoted_names_are_left_alone() -> None:
    t1 = pd.DataFrame({"[odd]": [1]})
    out = query("""select '[text]' as s, "[odd]" from t1""", t1=t1)
    assert out.to_dict("records") == [{"s": "[text]", "[odd]": 1}]


def test_sqlite_date_functions_work_on_one_argument() -> None:
    t1 = pd.DataFrame({"d": ["2020-01-05", "2000-01-01 12:00:00"]})
    sql = "select julianday(d) as j, unixepoch(d) as u, datetime(d) as dt, strftime('%Y-%m', CAST(d AS TIMESTAMP)) as ym from t1"
    out = query(sql, t1=t1)
    expected = sqlite_rows(sql.replace("CAST(d AS TIMESTAMP)", "d"), t1=t1)
    assert rows(out) == expected
    assert out["j"].tolist() == [2458853.5, 2451545.0]
    assert query("select date(d) as day from t1", t1=t1)["day"].astype(str).tolist() == ["2020-01-05", "2000-01-01"]


@pytest.mark.parametrize(
    ("sql", "equivalent"),
    [
        ("select date(d, '+1 day') from t1", "CAST(x AS DATE) + INTERVAL 1 DAY"),
        ("select date('now')", "date('now') is current_date"),
        ("select datetime('now')", "datetime('now') is current_timestamp"),
        ("select time(d) from t1", "CAST(x AS TIME)"),
        ("select julianday(d, 'start of month') from t1", "julianday(x) takes one argument"),
        ("select strftime('%Y', d) from t1", "strftime(CAST(x AS TIMESTAMP), format)"),
    ],
)
def test_sqlite_date_forms_duckdb_lacks_are_refused_naming_the_equivalent(sql: str, equivalent: str) -> None:
    error = sql_error(sql, t1=pd.DataFrame({"d": ["2020-01-05"]}))
    assert error.code == "sql_error"
    assert "SQLite date functions are written in DuckDB as" in error.message
    assert equivalent in error.message
