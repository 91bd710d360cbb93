"""Add Rows, Add Columns, Remove Duplicate Rows, Select Columns Transform and Convert to
Indicator Values, checked against pandas doing the same work."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from modules.sdk import ModuleError, ParamValues, Schema, roles_of, schema_of, set_roles
from modules.sdk.conformance import example_table
from modules.sdk.registry import default_registry
from modules.sdk.testing import call_module, run_through_runner


def run(module_id: str, params: dict | None = None, **inputs: object) -> dict:
    return call_module(module_id, params, **inputs).outputs


def infer(module_id: str, params: dict, **inputs: Schema | None) -> dict:
    cls = default_registry().get(module_id)
    cleaned, _ = cls.spec.clean_params(params)
    return dict(cls.infer_schema(ParamValues(cleaned), inputs))


@pytest.fixture
def table() -> pd.DataFrame:
    return set_roles(example_table(rows=20), {"target": "label"})


# --- Add Rows ------------------------------------------------------------------------------------


def test_add_rows_is_concat_in_the_first_tables_column_order(table: pd.DataFrame) -> None:
    second = table.iloc[::-1, ::-1].head(5)
    out = run("add_rows", dataset1=table, dataset2=second)["dataset"]
    pdt.assert_frame_equal(out, pd.concat([table, second[table.columns]], ignore_index=True))
    assert roles_of(out) == {"target": "label"}
    assert infer("add_rows", {}, dataset1=schema_of(table), dataset2=schema_of(second))["dataset"] == schema_of(table)


def test_add_rows_names_the_columns_that_differ(table: pd.DataFrame) -> None:
    with pytest.raises(ModuleError, match="only dataset1 has 'grade'; only dataset2 has 'level'") as caught:
        run("add_rows", dataset1=table, dataset2=table.rename(columns={"grade": "level"}))
    assert caught.value.port == "dataset2"
    with pytest.raises(ModuleError, match=r"'x1' \(numeric and string\)"):
        run("add_rows", dataset1=table, dataset2=table.assign(x1="high"))


# --- Add Columns ---------------------------------------------------------------------------------


def test_add_columns_puts_tables_side_by_side_and_numbers_shared_names_as_the_designer(table: pd.DataFrame) -> None:
    right = pd.DataFrame({"x1": np.arange(20.0), "extra": list("abcdefghijklmnopqrst"), "x1_1": 1})
    out = run("add_columns", left=table, right=right)["dataset"]
    assert list(out.columns) == [
        "x1_2", "x2", "color", "flag", "target", "klass", "grade", "x1_3", "extra", "x1_1",
    ]
    pdt.assert_series_equal(out["x1_2"], table["x1"].reset_index(drop=True), check_names=False)
    pdt.assert_series_equal(out["x1_3"], right["x1"], check_names=False)
    assert roles_of(out) == {"target": "label"}
    assert infer("add_columns", {}, left=schema_of(table), right=schema_of(right))["dataset"].names == list(out.columns)
    with pytest.raises(ModuleError, match="same number of rows; left has 20, right has 3"):
        run("add_columns", left=table, right=right.head(3))


# --- Remove Duplicate Rows -----------------------------------------------------------------------


@pytest.mark.parametrize("retain_first", [True, False])
def test_remove_duplicate_rows_matches_drop_duplicates(table: pd.DataFrame, retain_first: bool) -> None:
    table.loc[[2, 5], "color"] = None
    out = run("remove_duplicate_rows", {"key_columns": ["color", "flag"], "retain_first": retain_first}, dataset=table)
    expected = table.drop_duplicates(subset=["color", "flag"], keep="first" if retain_first else "last")
    pdt.assert_frame_equal(out["dataset"], expected)
    assert roles_of(out["dataset"]) == {"target": "label"}


# --- Select Columns Transform --------------------------------------------------------------------


def test_select_columns_transform_selects_the_same_columns_from_another_table(table: pd.DataFrame, tmp_path: Path) -> None:
    chosen = set_roles(table[["target", "color", "x1"]], {"target": "label"})
    manifest, out = run_through_runner("select_columns_transform", {}, tmp_path / "t", dataset=chosen)
    assert manifest["status"] == "completed"
    other = example_table(rows=7, seed=3)
    applied = run("apply_transformation", transform=out["transform"], dataset=other)["dataset"]
    pdt.assert_frame_equal(applied, other[["target", "color", "x1"]])
    assert roles_of(applied) == {"target": "label"}
    # New data to score has no label: every other column is still required.
    assert list(run("apply_transformation", transform=out["transform"], dataset=other.drop(columns="target"))["dataset"].columns) == ["color", "x1"]
    with pytest.raises(ModuleError, match="lacks column 'color'"):
        run("apply_transformation", transform=out["transform"], dataset=other.drop(columns="color"))


# --- Convert to Indicator Values -----------------------------------------------------------------


def test_indicator_values_match_get_dummies_and_reapply_with_the_fitted_values(table: pd.DataFrame) -> None:
    table.loc[4, "color"] = None
    out = run("convert_to_indicator_values", {"columns": ["color", "flag"]}, dataset=table)
    dummies = pd.get_dummies(table[["color"]].astype(object), prefix_sep="-", dtype="int64")
    pdt.assert_frame_equal(out["dataset"][dummies.columns], dummies)
    assert list(out["dataset"].columns) == [
        "x1", "x2", "color", "color-blue", "color-green", "color-red", "flag", "flag-False", "flag-True",
        "target", "klass", "grade",
    ]
    assert out["dataset"].loc[4, ["color-blue", "color-green", "color-red"]].sum() == 0
    unseen = pd.DataFrame({"color": ["red", "purple"], "flag": [True, False]})
    applied = run("apply_transformation", transform=out["transform"], dataset=unseen)["dataset"]
    assert applied[["color-blue", "color-green", "color-red"]].values.tolist() == [[0, 0, 1], [0, 0, 0]]


def test_indicator_values_overwrite_and_refuse_numbers(table: pd.DataFrame) -> None:
    out = run("convert_to_indicator_values", {"columns": ["grade"], "overwrite": True}, dataset=table)["dataset"]
    assert "grade" not in out.columns and {"grade-a", "grade-b", "grade-c"} <= set(out.columns)
    with pytest.raises(ModuleError, match="'x1' holds numbers") as caught:
        run("convert_to_indicator_values", {"columns": ["x1"]}, dataset=table)
    assert caught.value.param == "columns"
