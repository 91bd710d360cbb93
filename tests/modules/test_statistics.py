"""Summarize Data, checked against pandas' describe and scipy's sample statistics."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
import scipy.stats

from modules.builtin.samples import load_sample
from modules.sdk import ParamValues, schema_of, set_roles
from modules.sdk.registry import default_registry
from modules.sdk.testing import call_module, run_through_runner


@pytest.fixture
def cars() -> pd.DataFrame:
    return load_sample("automobile-price-raw")


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    return call_module("summarize_data", dataset=df).outputs["dataset"].set_index("column")


def test_numeric_statistics_match_describe(cars: pd.DataFrame) -> None:
    summary = summarize(cars)
    numeric = cars.select_dtypes("number")
    described = numeric.describe().T
    expected = described.rename(
        columns={"25%": "first_quartile", "50%": "median", "75%": "third_quartile"}
    )[["count", "mean", "std", "min", "first_quartile", "median", "third_quartile", "max"]]
    pdt.assert_frame_equal(
        summary.loc[numeric.columns, expected.columns], expected, check_dtype=False, check_names=False
    )


def test_shape_statistics_match_scipy_sample_estimates(cars: pd.DataFrame) -> None:
    summary = summarize(cars)
    for name in cars.select_dtypes("number").columns:
        values = cars[name].dropna()
        assert summary.at[name, "skewness"] == pytest.approx(scipy.stats.skew(values, bias=False))
        assert summary.at[name, "kurtosis"] == pytest.approx(scipy.stats.kurtosis(values, bias=False))


def test_counts_and_mode_for_every_column(cars: pd.DataFrame) -> None:
    summary = summarize(cars)
    assert list(summary.index) == list(cars.columns)
    pdt.assert_series_equal(summary["unique"], cars.nunique(), check_names=False)
    pdt.assert_series_equal(summary["missing"], cars.isna().sum(), check_names=False)
    pdt.assert_series_equal(summary["count"] + summary["missing"], pd.Series(len(cars), index=cars.columns),
                            check_names=False)
    assert summary.at["make", "mode"] == cars["make"].value_counts().idxmax()
    assert summary.at["num-of-doors", "type"] == "string"


def test_text_columns_have_no_numeric_statistics(cars: pd.DataFrame) -> None:
    summary = summarize(cars)
    assert summary.loc["make", ["min", "max", "mean", "median", "std", "skewness", "kurtosis"]].isna().all()


def test_mode_tie_takes_smallest_value() -> None:
    summary = summarize(pd.DataFrame({"v": [3, 1, 3, 1, 2], "flag": [True, False, None, True, False]}))
    assert summary.at["v", "mode"] == "1"
    assert summary.at["flag", "mode"] == "False"
    assert np.isnan(summary.at["flag", "mean"])  # booleans are not summarized as numbers


def test_empty_table_gives_a_row_per_column_with_no_statistics(cars: pd.DataFrame) -> None:
    summary = summarize(cars.iloc[:0])
    assert list(summary.index) == list(cars.columns)
    assert (summary["count"] == 0).all()
    assert summary[["mean", "std"]].isna().all().all()


def test_schema_is_known_before_running(cars: pd.DataFrame) -> None:
    cls = default_registry().get("summarize_data")
    inferred = cls.infer_schema(ParamValues(), {"dataset": None})["dataset"]
    for df in (cars, cars.iloc[:0], pd.DataFrame()):
        actual = call_module("summarize_data", dataset=df).outputs["dataset"]
        assert schema_of(actual) == inferred


def test_through_runner(cars: pd.DataFrame, tmp_path: Path) -> None:
    labelled = set_roles(cars, {"price": "label"})
    manifest, outputs = run_through_runner("summarize_data", None, tmp_path, dataset=labelled)
    assert manifest["status"] == "completed", manifest["error"]
    assert manifest["outputs"]["dataset"]["rows"] == cars.shape[1]
    summary = outputs["dataset"].set_index("column")
    assert summary.at["price", "count"] == cars["price"].count()
