"""Statistical functions: Summarize Data."""
from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from modules.sdk import (
    Column, ColumnKind, Input, Module, Output, ParamValues, PortType, Schema, StepContext, register, schema_of,
)

CATEGORY = "Statistical Functions"

# The summary's columns and dtypes, fixed whatever the input (even a table without columns).
SUMMARY_DTYPES = {
    "column": "str", "type": "str", "count": "int64", "unique": "int64", "missing": "int64",
    "min": "float64", "max": "float64", "mean": "float64", "first_quartile": "float64",
    "median": "float64", "third_quartile": "float64", "mode": "str", "std": "float64",
    "skewness": "float64", "kurtosis": "float64",
}
SUMMARY_SCHEMA = Schema(
    Column(name, ColumnKind.STRING if dtype == "str" else ColumnKind.NUMERIC) for name, dtype in SUMMARY_DTYPES.items()
)
# pandas' name for each statistic computed on numeric columns.
_NUMERIC_STATS = {
    "min": "min", "max": "max", "mean": "mean", "median": "median", "std": "std",
    "skewness": "skew", "kurtosis": "kurt",
}


@register
class SummarizeData(Module):
    """One row of descriptive statistics per column of a table."""

    id = "summarize_data"
    name = "Summarize Data"
    keywords = ("statistics", "describe", "profile", "mean", "summary", "column statistics")
    category = CATEGORY
    help = (
        "Describes every column of the table in one row:\n\n"
        "- `column`, `type` (numeric, string, categorical, boolean, datetime);\n"
        "- `count` (values present), `unique` (distinct values present), `missing`;\n"
        "- `mode`: the most frequent value (the smallest on a tie), as text;\n"
        "- for numeric columns only (empty otherwise): `min`, `max`, `mean`, `first_quartile`, "
        "`median`, `third_quartile` (linear interpolation between values), `std` (sample "
        "standard deviation, n − 1), `skewness` and `kurtosis` (sample, bias-corrected; "
        "kurtosis is the excess over a normal distribution's).\n\n"
        "Missing values are left out of every statistic. A statistic that needs more values "
        "than the column has (e.g. std of one value) is empty."
    )

    class Inputs:
        dataset = Input(type=PortType.DATAFRAME)

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME, help="One row per column of the input")

    def run(self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame) -> dict[str, Any]:
        kinds = {c.name: c.kind.value for c in schema_of(dataset)}
        numeric = dataset[[c for c, k in kinds.items() if k == ColumnKind.NUMERIC.value]].astype("float64")
        quartiles = numeric.quantile([0.25, 0.75])
        summary = pd.DataFrame(
            {
                "column": list(kinds),
                "type": list(kinds.values()),
                "count": dataset.count().to_numpy(),
                "unique": dataset.nunique().to_numpy(),
                "missing": dataset.isna().sum().to_numpy(),
                "mode": [self._mode(dataset[c]) for c in dataset.columns],
            }
        ).set_index("column", drop=False)
        for name, pandas_name in _NUMERIC_STATS.items():
            summary[name] = getattr(numeric, pandas_name)()
        summary["first_quartile"] = quartiles.loc[0.25]
        summary["third_quartile"] = quartiles.loc[0.75]
        return {"dataset": summary[list(SUMMARY_DTYPES)].reset_index(drop=True).astype(SUMMARY_DTYPES)}

    @staticmethod
    def _mode(series: pd.Series) -> str | None:
        modes = series.mode(dropna=True)
        return None if modes.empty else str(modes.iloc[0])

    @classmethod
    def infer_schema(cls, params: ParamValues, inputs: Mapping[str, Schema | None]) -> Mapping[str, Schema | None]:
        return {"dataset": SUMMARY_SCHEMA}
