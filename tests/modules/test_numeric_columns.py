"""Apply Math Operation, Clip Values and Group Data into Bins (checked against numpy and
pandas doing the same work), and Convert to Dataset."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from modules.sdk import ModuleError, ParamValues, Schema, roles_of, schema_of, set_roles
from modules.sdk.conformance import example_table
from modules.sdk.registry import default_registry
from modules.sdk.testing import call_module


def run(module_id: str, params: dict, df: pd.DataFrame) -> dict:
    return call_module(module_id, params, dataset=df).outputs


def infer(module_id: str, params: dict, schema: Schema) -> Schema | None:
    cls = default_registry().get(module_id)
    cleaned, _ = cls.spec.clean_params(params)
    return cls.infer_schema(ParamValues(cleaned), {"dataset": schema})["dataset"]


@pytest.fixture
def table() -> pd.DataFrame:
    df = example_table(rows=50)
    df.loc[3, "x1"] = np.nan
    return set_roles(df, {"target": "label"})


# --- Apply Math Operation ------------------------------------------------------------------------


def test_unary_functions_append_columns_named_as_in_the_designer(table: pd.DataFrame) -> None:
    out = run("apply_math_operation", {"columns": ["x1", "x2"], "operation": "exp"}, table)["dataset"]
    np.testing.assert_allclose(out["Exp(x1)"], np.exp(table["x1"]))
    np.testing.assert_allclose(out["Exp(x2)"], np.exp(table["x2"]))
    assert list(out.columns) == [*table.columns, "Exp(x1)", "Exp(x2)"] and roles_of(out) == {"target": "label"}
    assert infer("apply_math_operation", {"columns": ["x1", "x2"], "operation": "exp"}, schema_of(table)).names == list(out.columns)


def test_a_constant_or_a_column_as_second_argument(table: pd.DataFrame) -> None:
    divided = run("apply_math_operation", {"columns": ["target"], "operation": "divide", "operand": "column",
                                           "operand_column": ["x2"], "output_mode": "result_only"}, table)["dataset"]
    expected = (table["target"] / table["x2"]).replace([np.inf, -np.inf], np.nan)
    pdt.assert_series_equal(divided["Divide(target_x2)"], expected, check_names=False)
    rounded = run("apply_math_operation", {"columns": ["x1"], "operation": "round_digits", "constant": 2, "output_mode": "inplace"}, table)
    np.testing.assert_allclose(rounded["dataset"]["x1"], table["x1"].round(2))


def test_non_finite_results_become_missing_and_are_counted(table: pd.DataFrame) -> None:
    run_ = call_module("apply_math_operation", {"columns": ["x2"], "operation": "ln"}, dataset=table)
    zeros = int((table["x2"] == 0).sum())
    assert run_.outputs["dataset"]["Ln(x2)"].isna().sum() == zeros
    assert run_.ctx.warnings == [f"{zeros} results were not a finite number and became missing"]


def test_comparisons_give_true_false_and_unknown_where_a_value_is_missing(table: pd.DataFrame) -> None:
    out = run("apply_math_operation", {"columns": ["x1"], "operation": "greater_than", "constant": 0}, table)["dataset"]
    flags = out["GreaterThan(x1_0)"]
    assert flags.dtype == "boolean" and pd.isna(flags[3])
    assert flags.drop(index=3).tolist() == (table["x1"].drop(index=3) > 0).tolist()


def test_text_columns_are_refused_by_name(table: pd.DataFrame) -> None:
    with pytest.raises(ModuleError, match="'color' is not numeric") as caught:
        run("apply_math_operation", {"columns": ["x1", "color"]}, table)
    assert caught.value.param == "columns"


# --- Clip Values ---------------------------------------------------------------------------------


def test_clipping_to_constants_is_numpy_clip(table: pd.DataFrame) -> None:
    out = run("clip_values", {"columns": ["x1"], "clip": "peaks_and_subpeaks", "upper": 1, "lower": -1}, table)["dataset"]
    pdt.assert_series_equal(out["x1"], table["x1"].clip(-1, 1))


def test_percentile_thresholds_substitutes_and_indicators(table: pd.DataFrame) -> None:
    params = {"columns": ["x1"], "threshold": "percentile", "upper": 90, "upper_substitute": "median",
              "overwrite": False, "add_indicator": True}
    out = run("clip_values", params, table)["dataset"]
    upper = np.nanpercentile(table["x1"], 90)
    peaks = table["x1"] > upper
    expected = table["x1"].where(~peaks, table["x1"].median())
    pdt.assert_series_equal(out["x1_clipped"], expected, check_names=False)
    pdt.assert_series_equal(out["x1"], table["x1"])
    assert out["x1_clipped_flag"].tolist() == peaks.tolist()
    assert infer("clip_values", params, schema_of(table)).names == list(out.columns)


# --- Group Data into Bins ------------------------------------------------------------------------


def test_quantile_bins_match_qcut(table: pd.DataFrame) -> None:
    out = run("group_data_into_bins", {"columns": ["x1"], "bins": 4, "categorical": False}, table)
    expected = pd.qcut(table["x1"], 4, labels=False) + 1
    assert out["dataset"]["x1_quantized"].astype("float64").tolist() == pytest.approx(expected.tolist(), nan_ok=True)


def test_equal_width_and_custom_edges_match_cut_and_reapply(table: pd.DataFrame) -> None:
    out = run("group_data_into_bins", {"columns": ["target"], "method": "equal_width", "bins": 5, "output_mode": "inplace"}, table)
    expected = pd.cut(table["target"], 5, labels=False) + 1
    assert out["dataset"]["target"].astype("int64").tolist() == expected.tolist()
    assert roles_of(out["dataset"]) == {"target": "label"}
    custom = run("group_data_into_bins", {"columns": ["x2"], "method": "custom_edges", "edges": "2, 5, 8"}, table)
    assert custom["dataset"]["x2_quantized"].astype("int64").tolist() == [
        1 if v <= 2 else 2 if v <= 5 else 3 if v <= 8 else 4 for v in table["x2"]
    ]
    new = pd.DataFrame({"x2": [-10, 5, 100]})
    applied = call_module("apply_transformation", {}, transform=custom["transform"], dataset=new).outputs["dataset"]
    assert applied["x2_quantized"].astype("int64").tolist() == [1, 2, 4]


def test_bad_edges_are_refused_before_running(table: pd.DataFrame) -> None:
    with pytest.raises(ModuleError, match="edges must increase") as caught:
        infer("group_data_into_bins", {"method": "custom_edges", "edges": "5, 2"}, schema_of(table))
    assert caught.value.param == "edges"


# --- Convert to Dataset --------------------------------------------------------------------------


def test_set_missing_values_turns_placeholders_into_missing_and_numbers_back_into_numbers() -> None:
    df = pd.DataFrame({"size": ["1", "?", "3"], "name": ["a", "?", "c"], "n": [1, 2, 3]})
    out = run("convert_to_dataset", {"action": "set_missing_values"}, df)["dataset"]
    assert out["size"].tolist()[::2] == [1.0, 3.0] and pd.isna(out["size"][1]) and out["size"].dtype.kind == "f"
    assert out["name"].isna().tolist() == [False, True, False]
    minus = run("convert_to_dataset", {"action": "set_missing_values", "missing_value": "2"}, df)["dataset"]
    assert minus["n"].isna().tolist() == [False, True, False]


def test_replace_values_fits_each_column() -> None:
    df = pd.DataFrame({"a": [1.0, None, 3.0], "b": ["x", None, "obs"]})
    out = run("convert_to_dataset", {"action": "replace_values", "new_value": "0"}, df.drop(columns="b"))["dataset"]
    assert out["a"].tolist() == [1.0, 0.0, 3.0]
    custom = run("convert_to_dataset", {"action": "replace_values", "replace": "custom", "new_value": "other"}, df[["b"]])
    assert custom["dataset"]["b"].tolist()[::2] == ["x", "other"]
    with pytest.raises(ModuleError, match="'zero' is not a number value, which column 'a' needs"):
        run("convert_to_dataset", {"action": "replace_values", "new_value": "zero"}, df)
