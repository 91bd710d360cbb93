"""Convert to Dataset: mark placeholder values as missing, or replace values."""
from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from modules.sdk import (
    Choice, Input, Module, ModuleError, Output, ParamValues, PortType, Schema, StepContext, String, register,
    roles_of, set_roles,
)

from .transformation import parse_replacement, value_type

SchemaMap = Mapping[str, Schema | None]
NONE = "none"
SET_MISSING = "set_missing_values"
REPLACE = "replace_values"


def _matches(series: pd.Series, text: str) -> pd.Series:
    """Values whose text form is `text` (numbers compared as numbers: 0 matches 0.0)."""
    if value_type(series) == "number":
        try:
            return (series.astype("float64") == float(text)).fillna(False).astype(bool)
        except ValueError:
            return pd.Series(False, index=series.index)
    return (series.astype("str").str.strip() == text.strip()) & series.notna()


@register
class ConvertToDataset(Module):
    """Turn placeholder values into missing values, or replace missing or given values, in every column."""

    id = "convert_to_dataset"
    name = "Convert to Dataset"
    keywords = ("placeholder values", "replace values", "missing values")
    category = "Data Input and Output"
    help = (
        "Tables are datasets already; this module does the designer's clean-ups on the way.\n\n"
        "- **action `none`**: the table as it is.\n"
        "- **`set_missing_values`**: every value equal to `missing_value` (e.g. `?`, `NA`, `-1`; "
        "numbers compared as numbers) becomes a missing value; a text column left holding only "
        "numbers becomes numeric.\n"
        "- **`replace_values`**: missing values (`replace: missing`) or values equal to "
        "`custom_value` (`replace: custom`) become `new_value`, read as a number, boolean or date "
        "to fit each column. A column `new_value` does not fit, with something to replace, is an "
        "error naming it.\n\n"
        "Column roles are kept."
    )

    class Inputs:
        dataset = Input(type=PortType.DATAFRAME)

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME, help="The converted table")

    class Params:
        action = Choice(choices=(NONE, SET_MISSING, REPLACE), default=NONE, help="What to do to the values")
        missing_value = String(default="?", help="set_missing_values: the placeholder that means missing")
        replace = Choice(choices=("missing", "custom"), default="missing", help="replace_values: replace missing values or custom_value")
        custom_value = String(default="obs", help="replace_values with replace custom: the value to replace")
        new_value = String(default="0", help="replace_values: the value put instead")

    def run(self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame) -> dict[str, Any]:
        roles = roles_of(dataset)
        if params.action == NONE:
            return {"dataset": dataset}
        out = dataset.copy()
        changed = 0
        for name in dataset.columns:
            series = dataset[name]
            if params.action == SET_MISSING:
                hits = _matches(series, params.missing_value)
                if hits.any():
                    out[name] = self._without(series, hits)
            else:
                hits = series.isna() if params.replace == "missing" else _matches(series, params.custom_value)
                if hits.any():
                    out[name] = self._replaced(series, hits, params.new_value, str(name))
            changed += int(hits.sum())
        ctx.log(f"{changed} values changed")
        return {"dataset": set_roles(out, roles)}

    @staticmethod
    def _without(series: pd.Series, hits: pd.Series) -> pd.Series:
        kept = series.where(~hits)
        if value_type(series) == "text":
            numbers = pd.to_numeric(kept, errors="coerce")
            if numbers.notna().sum() == kept.notna().sum():
                return numbers  # "?" was the only text in a column of numbers
        return kept

    @staticmethod
    def _replaced(series: pd.Series, hits: pd.Series, new_value: str, name: str) -> pd.Series:
        kind = value_type(series)
        value = parse_replacement(new_value, kind)
        if value is None:
            raise ModuleError(
                f"new value {new_value!r} is not a {kind} value, which column {name!r} needs",
                code="bad_value", param="new_value", details={"column": name},
            )
        if isinstance(series.dtype, pd.CategoricalDtype) and value not in series.cat.categories:
            series = series.cat.add_categories([value])
        elif pd.api.types.is_integer_dtype(series.dtype) and isinstance(value, float) and not value.is_integer():
            series = series.astype("float64")
        return series.mask(hits, value)

    @classmethod
    def infer_schema(cls, params: ParamValues, inputs: SchemaMap) -> SchemaMap:
        # set_missing_values may turn a text column into numbers: known only from the values.
        return {"dataset": inputs.get("dataset") if params.action != SET_MISSING else None}
